#!/usr/bin/env bash
# The paired ablation of cross-fitted fine-tuning (docs/results.md, "Cross-fitted fine-tuning"):
# in every workspace that `TEXT_MODEL=... scripts/bench-accuracy.sh` left under a folder, the
# decider is retrained with the out-of-fold text cosines moved aside -- same encoder, same
# vectors, so its train rows see the fine-tuned encoder's in-sample cosines -- and evaluated on
# valid and test; then the out-of-fold decider is trained again, so the workspace is left as it
# was. Prints valid F1 / test F1 of both.
# Usage: scripts/bench-decider-in-sample.sh [path/to/doppel] [folder]
set -euo pipefail
doppel=${1:-build/tools/doppel/doppel}
out=${2:-results/accuracy-bert}
echo "| dataset | out-of-fold cosines: valid F1 / test F1 | in-sample cosines |"
echo "|---|---|---|"
for ws in "$out"/*/ws; do
  slug=$(basename "$(dirname "$ws")")
  oof=$ws/models/text/out_of_fold_cosines.csv
  [ -f "$oof" ] || { echo "bench-decider-in-sample: $oof is missing" >&2; exit 1; }
  mv "$oof" "$oof.aside"
  "$doppel" -q train decider "$ws" > /dev/null
  "$doppel" -q eval "$ws" --split valid --out "$out/$slug/in-sample/valid" > /dev/null
  "$doppel" -q eval "$ws" --split test --out "$out/$slug/in-sample" > /dev/null
  mv "$oof.aside" "$oof"
  "$doppel" -q train decider "$ws" > /dev/null
  python3 - "$out/$slug" "$slug" <<'PY'
import json, sys
folder, slug = sys.argv[1:]
f1 = lambda path: json.load(open(f"{folder}/{path}/metrics.json"))["at_threshold"]["f1"] * 100
print(f"| {slug} | {f1('valid'):.1f} / {f1('.'):.1f} | "
      f"{f1('in-sample/valid'):.1f} / {f1('in-sample'):.1f} |")
PY
done
