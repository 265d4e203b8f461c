#!/usr/bin/env bash
# Dimension study for the BERT text encoder (issue 4): the decider's F1 when the encoder's vector
# has each of DIMS dimensions, like the reference system's table (F1 0.86 at the full hidden size,
# 0.856 at 512, 0.85 at 256, 0.84 at 128).
# Usage: TEXT_MODEL=DIR scripts/bench-text-dims.sh [path/to/doppel] [out-folder]
#   TEXT_MODEL  a pretrained text model folder (`doppel train text --stage mlm`), required
#   DIMS        output dimensions of the CNN head's projection (default "512 256 128 64")
#   DATASETS    bench-accuracy.sh dataset names, '|'-separated (default: all five)
#   MATCH_ARGS  options for the match fine-tuning besides --dim (default "--epochs 5")
# For each dimension, scripts/bench-accuracy.sh runs with MATCH_ARGS="... --dim D" into
# OUT/dim-D: the encoder is fine-tuned on train, the decider trained on train and thresholded on
# valid, test reported once. Writes OUT/dims.md (valid and test F1 per dimension and dataset).
set -euo pipefail
doppel=${1:-build/tools/doppel/doppel}
out=${2:-results/text-dims}
if [ -z "${TEXT_MODEL:-}" ]; then
  echo "bench-text-dims: set TEXT_MODEL to a pretrained text model folder" >&2
  exit 1
fi
dims=${DIMS:-512 256 128 64}
here=$(dirname "$0")
mkdir -p "$out"
for d in $dims; do
  echo "=== dim $d" >&2
  MATCH_ARGS="${MATCH_ARGS:---epochs 5} --dim $d" \
    "$here/bench-accuracy.sh" "$doppel" "$out/dim-$d" > /dev/null
done
python3 - "$out" $dims > "$out/dims.md" <<'PY'
import json, os, sys
out, dims = sys.argv[1], sys.argv[2:]
first = os.path.join(out, f"dim-{dims[0]}")
slugs = sorted(s for s in os.listdir(first) if os.path.isfile(os.path.join(first, s, "metrics.json")))
print("| dim | " + " | ".join(f"{s} valid F1 | {s} test F1" for s in slugs) + " |")
print("|---:|" + "---:|---:|" * len(slugs))
for d in dims:
    cells = []
    for s in slugs:
        folder = os.path.join(out, f"dim-{d}", s)
        test = json.load(open(os.path.join(folder, "metrics.json")))["at_threshold"]["f1"]
        valid = json.load(open(os.path.join(folder, "valid", "metrics.json")))["at_threshold"]["f1"]
        cells.append(f"{valid * 100:.1f} | {test * 100:.1f}")
    print(f"| {d} | " + " | ".join(cells) + " |")
PY
cat "$out/dims.md"
