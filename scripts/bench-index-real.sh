#!/usr/bin/env bash
# Index benchmark on real embeddings: the 128-d vectors doppel makes for real listings, beside
# the synthetic families of scripts/bench-index.sh.
#
# Usage: scripts/bench-index-real.sh [path/to/doppel] [out]   (out: results/bench-index-real)
#   text:  one workspace holding every distinct listing of the Ditto benchmark files in
#          ../shared/data (Magellan + WDC LSPC, all splits; a listing's id is a hash of its text,
#          so a listing in several files is stored once), embedded by the classical encoder
#          (TF-IDF + PCA-128 fitted on those listings; ~32k listings). Labels are ignored.
#   image: IMAGE_WS=<workspace with image vectors> adds a run on its "image" space, e.g. the
#          grocery workspace of scripts/bench-multimodal.sh (results/multimodal-all/ws).
# `doppel bench index --workspace` queries with perturbed copies of random stored vectors (cos
# 0.89..0.995 to the original, which counts as the query's duplicate); recall@k is against exact
# search over the stored vectors. SPECS / IMAGE_SPECS and SEARCH_PARAMS override the lists.
# Writes OUT/text/results.{md,json} (and OUT/image/...). About 5 minutes on 2 cores.
set -euo pipefail
doppel=${1:-build/tools/doppel/doppel}
out=${2:-results/bench-index-real}
data=${DOPPEL_DATA:-../shared/data}
[ -d "$data" ] || { echo "bench-index-real: no benchmark data at $data" >&2; exit 1; }

ws="$out/ws"
rm -rf "$out"
"$doppel" -q init "$ws" > /dev/null
shopt -s nullglob
files=("$data"/ditto-er_magellan/*/*/*.txt "$data"/ditto-wdc_lspc_v2/*/*.txt*)
[ ${#files[@]} -gt 0 ] || { echo "bench-index-real: no Ditto files under $data" >&2; exit 1; }
for file in "${files[@]}"; do
  "$doppel" -q ingest "$ws" "$file" --format ditto --split train > /dev/null
done
"$doppel" -q train text "$ws" > /dev/null
"$doppel" -q embed "$ws" > /dev/null

# 512 lists for the text workspace's ~32k distinct listings (FAISS asks for >= 39 training rows
# a list); 32 for the grocery workspace's ~1,700 photos.
text_specs="Flat;IVF512,Flat,nprobe=16;IVF512,SQ8,nprobe=16;IVF512,PQ32,nprobe=16"
text_specs+=";IVF512,PQ32,RDisk,nprobe=16,k_factor=16;HNSW32"
"$doppel" bench index --workspace "$ws" --space text --queries 1000 \
  --specs "${SPECS:-$text_specs}" --search-params "${SEARCH_PARAMS:-nprobe=64}" --out "$out/text"

if [ -n "${IMAGE_WS:-}" ]; then
  image_specs="Flat;IVF32,Flat,nprobe=4;IVF32,PQ32,RDisk,nprobe=4,k_factor=16;HNSW32"
  "$doppel" bench index --workspace "$IMAGE_WS" --space image --queries 500 \
    --specs "${IMAGE_SPECS:-$image_specs}" --search-params "${SEARCH_PARAMS:-nprobe=16}" \
    --out "$out/image"
fi
