#!/usr/bin/env bash
# How far the decider's seed alone moves a finished scripts/bench-accuracy.sh run: retrains the
# decider in every workspace under FOLDER (FOLDER/<dataset>/ws) once per seed and evaluates it on
# valid and on test. Text model, vectors and index are reused. This reports a spread; it chooses
# nothing (a choice made from test figures would be tuning on test). Each workspace ends with the
# decider of the default seed (42), as bench-accuracy.sh left it.
# Usage: scripts/bench-decider-seeds.sh [path/to/doppel] [folder]
# SEEDS (default "42 1 2 3 4"); DECIDER_ARGS passes options to `doppel train decider`;
# SPLITS=valid evaluates valid only: the seed-mean figures for choosing between decider variants
# without looking at test.
# Writes FOLDER/seeds.md (mean ± sd and min–max of F1, mean AP and mean random pairs accepted,
# per dataset and split), the F1, AP and random pairs accepted of every run in FOLDER/seeds.tsv,
# and
# FOLDER/<dataset>/seeds/<seed>-<split>/metrics.json.
set -euo pipefail
doppel=${1:-build/tools/doppel/doppel}
out=${2:-results/accuracy}
seeds=${SEEDS:-42 1 2 3 4}
splits=${SPLITS:-valid test}
table="$out/seeds.md"
results="$out/seeds.tsv"
: > "$results"

for ws in "$out"/*/ws; do
  slug=$(basename "$(dirname "$ws")")
  echo "== $slug" >&2
  for seed in $seeds; do
    # shellcheck disable=SC2086  # DECIDER_ARGS is a list of options
    "$doppel" -q train decider "$ws" --seed "$seed" ${DECIDER_ARGS:-} > /dev/null
    for split in $splits; do
      dir="$out/$slug/seeds/$seed-$split"
      "$doppel" -q eval "$ws" --split "$split" --out "$dir" > /dev/null
      python3 -c 'import json, sys; m = json.load(open(sys.argv[1]))
print(sys.argv[2], sys.argv[3], sys.argv[4], m["at_threshold"]["f1"] * 100,
      m["average_precision"] * 100, m["random_pairs"]["accepted"], sep="\t")' \
        "$dir/metrics.json" "$slug" "$split" "$seed" >> "$results"
    done
  done
  # shellcheck disable=SC2086  # as above; back to the default seed
  "$doppel" -q train decider "$ws" ${DECIDER_ARGS:-} > /dev/null
done

python3 - "$results" "$seeds" "$splits" > "$table" <<'PY'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
print(f"F1 (positive) over decider seeds {sys.argv[2]}: mean ± sd (min–max), and the means of "
      "the average precision and of the random catalog pairs accepted (of 3,000; `doppel "
      "eval`)\n")
splits = sys.argv[3].split()
print("| dataset | " + " | ".join(f"{split} F1" for split in splits) + " |")
print("|---" * (len(splits) + 1) + "|")
for slug in dict.fromkeys(r[0] for r in rows):
    cells = []
    for split in splits:
        f1 = [float(r[3]) for r in rows if r[0] == slug and r[1] == split]
        ap = [float(r[4]) for r in rows if r[0] == slug and r[1] == split]
        random = [int(r[5]) for r in rows if r[0] == slug and r[1] == split]
        sd = statistics.stdev(f1) if len(f1) > 1 else 0.0
        cells.append(f"{statistics.mean(f1):.1f} ± {sd:.1f} ({min(f1):.1f}–{max(f1):.1f}), "
                     f"AP {statistics.mean(ap):.1f}, random pairs accepted "
                     f"{statistics.mean(random):g}")
    print(f"| {slug} | " + " | ".join(cells) + " |")
PY
cat "$table"
