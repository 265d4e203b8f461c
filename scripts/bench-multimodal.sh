#!/usr/bin/env bash
# The decider ablation on the grocery multimodal benchmark (docs/multimodal_benchmark.md): real
# product photos with generated seller titles, hard negatives from the same coarse class. One
# workspace: TF-IDF text vectors, a ViT-MAE image encoder trained here (MAE on the catalog's
# photos, then the contrastive stage on training-split matches only), both indexed; then one
# decider per feature set and classifier (XGBoost, MLP), each trained on train, thresholded on
# valid, reported once on test. Last, the feature set and classifier with the best valid F1 are
# timed (`doppel bench decider`) with both classifiers beside the cosine threshold.
# Usage: scripts/bench-multimodal.sh [path/to/doppel] [out-folder]
# MAE_EPOCHS, CONTRASTIVE_EPOCHS (default 10 / 5) size the image training; IMAGE_MODEL=DIR uses an
# already trained image model folder instead (copied into the workspace). CLASSIFIERS (default
# "xgboost mlp") chooses the classifiers; FEATURE_SETS (e.g. "text,blocks image,blocks") keeps only
# those rows of the ablation.
# Writes OUT/ablation.md, OUT/speed.md and OUT/<feature set>[-mlp]/{metrics.json,report.md,...}.
set -euo pipefail
doppel=${1:-build/tools/doppel/doppel}
out=${2:-results/multimodal}
grocery=${DOPPEL_DATA:-../shared/data}/grocerystore-packages
[ -f "$grocery/train.txt" ] || { echo "bench-multimodal: no grocery photos at $grocery" >&2; exit 1; }
ws=$out/ws

rm -rf "$out"
mkdir -p "$out"
"$doppel" -q synth grocery --data "$grocery" --out "$out/data"
"$doppel" -q init "$ws" > /dev/null
"$doppel" -q ingest "$ws" "$out/data/listings.csv" > /dev/null
"$doppel" -q ingest "$ws" "$out/data/pairs.csv" > /dev/null
"$doppel" -q train text "$ws"
if [ -n "${IMAGE_MODEL:-}" ]; then
  mkdir -p "$ws/models/image"
  cp "$IMAGE_MODEL"/{config.json,model.safetensors,encoder.json,head.safetensors} "$ws/models/image/"
else
  "$doppel" train image "$ws" --stage mae --epochs "${MAE_EPOCHS:-10}"
  "$doppel" train image "$ws" --stage contrastive --epochs "${CONTRASTIVE_EPOCHS:-5}"
fi
"$doppel" -q embed "$ws"
"$doppel" -q index "$ws" --spec Flat
"$doppel" -q index "$ws" --space image --spec Flat

# name | --features
ablations=(
  "text cosine (siamese: a learned cut on one feature)|text"
  "image cosine (siamese)|image"
  "text vectors (cosine, abs diff, product)|text,blocks"
  "image vectors (cosine, abs diff, product)|image,blocks"
  "text + image vectors|text,image,blocks"
  "classical pair features + text cosine|pair"
  "pair features + text and image cosines|pair,text,image"
  "pair features + text and image vectors (all)|pair,text,image,blocks"
)
table="$out/ablation.md"
{
  echo "| decider inputs | --features | classifier | columns | test precision | test recall | **test F1** | test macro F1 | valid F1 | recall@10 text / image / union |"
  echo "|---|---|---|---:|---:|---:|---:|---:|---:|---|"
} > "$table"
choices="$out/valid_f1.tsv"  # valid F1, features, classifier
: > "$choices"
for entry in "${ablations[@]}"; do
  IFS='|' read -r name features <<< "$entry"
  if [ -n "${FEATURE_SETS:-}" ] && [[ " $FEATURE_SETS " != *" $features "* ]]; then continue; fi
  for classifier in ${CLASSIFIERS:-xgboost mlp}; do
    slug=${features//,/-}
    [ "$classifier" = xgboost ] || slug=$slug-$classifier
    echo "== $name ($classifier)" >&2
    columns=$("$doppel" -q train decider "$ws" --features "$features" --classifier "$classifier" \
      | sed -n 's/^features: .* (\([0-9]*\) columns)$/\1/p')
    "$doppel" -q eval "$ws" --split valid --out "$out/$slug/valid" > /dev/null
    "$doppel" -q eval "$ws" --split test --out "$out/$slug" > /dev/null
    python3 - "$out/$slug/metrics.json" "$out/$slug/valid/metrics.json" "$name" "$features" \
      "$columns" "$classifier" "$choices" >> "$table" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); t = m["at_threshold"]
v = json.load(open(sys.argv[2]))["at_threshold"]["f1"]
r = m["candidate_recall_at_k"].get("10") or {}
fmt = lambda x: "—" if x is None else f"{x:.3f}"
print(f"| {sys.argv[3]} | `{sys.argv[4]}` | {sys.argv[6]} | {sys.argv[5]} | {t['precision']*100:.1f} | "
      f"{t['recall']*100:.1f} | **{t['f1']*100:.1f}** | {t['macro_f1']*100:.1f} | "
      f"{v*100:.1f} | {fmt(r.get('text'))} / {fmt(r.get('image'))} / {fmt(r.get('any'))} |")
with open(sys.argv[7], "a") as f:
    f.write(f"{v}\t{sys.argv[4]}\t{sys.argv[6]}\n")
PY
  done
done
cat "$table"

# Speed of the configuration valid chose, with every classifier, beside the cosine threshold.
read -r _ best_features best_classifier < <(sort -g -r "$choices" | sed -n 1p)
echo "== speed: --features $best_features (chosen on valid, with $best_classifier)" >&2
classifiers=(${CLASSIFIERS:-xgboost mlp})
also=()
for classifier in "${classifiers[@]}"; do
  "$doppel" -q train decider "$ws" --features "$best_features" --classifier "$classifier" > /dev/null
  cp -r "$ws/models/decider" "$out/decider-$classifier"
  [ "$classifier" = "${classifiers[0]}" ] || also+=(--also "$out/decider-$classifier")
done
rm -rf "$ws/models/decider"  # the first classifier's is the workspace's, the others ride along
cp -r "$out/decider-${classifiers[0]}" "$ws/models/decider"
"$doppel" -q bench decider "$ws" "${also[@]}" | tee "$out/speed.md"
