#!/usr/bin/env bash
# What the decider's random catalog pairs (`train decider --random-negatives`) change, in every
# workspace of a scripts/bench-accuracy.sh folder (a finished run or a PREPARE_ONLY=1 one): for
# each ratio, the decider (seed 42) is retrained, evaluated on valid, and run as a dedup, and the
# dedup's accepted pairs are set against the labels (scripts/dedup-vs-labels.py). Test is not
# read. Each workspace ends with the default decider.
# Usage: scripts/bench-random-negatives.sh [path/to/doppel] [folder]
# RATIOS (default "0 1").
# Writes FOLDER/random-negatives.md: per dataset and ratio, valid F1, the random pairs of the
# catalog (3,000, drawn apart from training's) accepted as matches, and the dedup's accepted
# pairs, clusters and largest cluster, and how they meet the labels.
set -euo pipefail
doppel=${1:-build/tools/doppel/doppel}
folder=${2:-results/accuracy}
ratios=${RATIOS:-0 1}
here=$(dirname "$0")
table="$folder/random-negatives.md"
{
  echo "| dataset | random negatives per train pair | valid F1 | random pairs accepted | dedup: accepted pairs, clusters, largest | accepted pairs against the labels |"
  echo "|---|---:|---:|---:|---|---|"
} > "$table"
for ws in "$folder"/*/ws; do
  slug=$(basename "$(dirname "$ws")")
  echo "== $slug" >&2
  for ratio in $ratios; do
    dir="$folder/$slug/random-negatives-$ratio"
    "$doppel" -q train decider "$ws" --random-negatives "$ratio" > /dev/null
    "$doppel" -q eval "$ws" --split valid --out "$dir/valid" > /dev/null
    dedup=$("$doppel" -q dedup "$ws" --out "$dir/dedup" | grep 'candidate pairs')
    labels=$(python3 "$here/dedup-vs-labels.py" "$ws" "$dir/dedup/pairs.csv")
    python3 - "$dir/valid/metrics.json" "$slug" "$ratio" "$dedup" "$labels" >> "$table" <<'PY'
import json, re, sys
m = json.load(open(sys.argv[1]))
dedup = re.search(r"(\d+) accepted .* (\d+) clusters .*\(largest (\d+)\)", sys.argv[4])
print(f"| {sys.argv[2]} | {sys.argv[3]} | {m['at_threshold']['f1'] * 100:.1f} | "
      f"{m['random_pairs']['accepted']} of {m['random_pairs']['pairs']} | "
      f"{dedup[1]}, {dedup[2]}, {dedup[3]} | {sys.argv[5]} |")
PY
  done
  "$doppel" -q train decider "$ws" > /dev/null
done
cat "$table"
