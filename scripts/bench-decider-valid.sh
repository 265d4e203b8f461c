#!/usr/bin/env bash
# Valid-split figures only, for choosing pair features or decider settings without looking at
# test: retrains the decider in every workspace that scripts/bench-accuracy.sh left under a folder
# (FOLDER/<dataset>/ws; `PREPARE_ONLY=1 scripts/bench-accuracy.sh` makes them without evaluating
# anything) and evaluates it on valid. The text model, vectors and index are reused, so one pass
# costs only the decider's training and evaluation.
# Usage: scripts/bench-decider-valid.sh [path/to/doppel] [folder]
# DECIDER_ARGS passes options to `doppel train decider`, as in bench-accuracy.sh.
# Writes FOLDER/valid.md (a table) and FOLDER/<dataset>/valid/{metrics.json,report.md,...}.
set -euo pipefail
doppel=${1:-build/tools/doppel/doppel}
out=${2:-results/accuracy}
table="$out/valid.md"
{
  echo "| dataset | valid pairs | threshold | valid F1 | valid AP |"
  echo "|---|---:|---:|---:|---:|"
} > "$table.tmp"

for ws in "$out"/*/ws; do
  slug=$(basename "$(dirname "$ws")")
  echo "== $slug" >&2
  # shellcheck disable=SC2086  # DECIDER_ARGS is a list of options
  "$doppel" -q train decider "$ws" ${DECIDER_ARGS:-} > /dev/null
  "$doppel" -q eval "$ws" --split valid --out "$out/$slug/valid" > /dev/null
  python3 - "$out/$slug/valid/metrics.json" "$slug" >> "$table.tmp" <<'PY'
import json, sys
v = json.load(open(sys.argv[1])); t = v["at_threshold"]
print(f"| {sys.argv[2]} | {v['pairs']} | {t['threshold']:.3f} | {t['f1']*100:.1f} | "
      f"{v['average_precision']*100:.1f} |")
PY
done
mv "$table.tmp" "$table"
cat "$table"
