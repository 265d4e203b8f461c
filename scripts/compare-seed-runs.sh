#!/usr/bin/env bash
# Whether one setting's decider beats another's beyond what the sample of test pairs alone could
# do: for each dataset that every folder holds, `doppel eval-compare` (a paired bootstrap of F1
# over the pairs) between the seed runs of scripts/bench-decider-seeds.sh in BASELINE and those of
# every CANDIDATE folder together (e.g. one folder per fine-tuning of the same encoder).
# Usage: scripts/compare-seed-runs.sh path/to/doppel BASELINE CANDIDATE...
# SPLIT (default test) picks the runs, FOLDER/<dataset>/seeds/<seed>-<split>. Prints a Markdown
# table: seed-mean F1 of each side, the difference, its 95% interval, and the share of draws on
# which the candidate is ahead.
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 path/to/doppel BASELINE CANDIDATE..." >&2
  exit 2
fi
doppel=$1 baseline=$2
shift 2
split=${SPLIT:-test}
json=$(mktemp)
trap 'rm -f "$json"' EXIT
echo "| dataset | baseline F1 | candidate F1 | difference | 95% interval | candidate ahead on |"
echo "|---|---:|---:|---:|---|---:|"
for dataset in "$baseline"/*/seeds; do
  slug=$(basename "$(dirname "$dataset")")
  candidates=()
  for folder in "$@"; do
    runs=("$folder/$slug/seeds/"*-"$split")
    [ -d "${runs[0]}" ] || continue 2  # a dataset not in every folder is left out
    candidates+=("${runs[@]}")
  done
  "$doppel" eval-compare --baseline "$dataset"/*-"$split" --candidate "${candidates[@]}" \
    --json "$json" > /dev/null
  python3 - "$json" "$slug" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
points = lambda x: f"{100 * x:+.2f}"
print(f"| {sys.argv[2]} | {100 * c['baseline']['f1']:.2f} | {100 * c['candidate']['f1']:.2f} | "
      f"{points(c['difference'])} | {points(c['interval'][0])} to {points(c['interval'][1])} | "
      f"{100 * c['candidate_ahead']:.1f}% |")
PY
done
