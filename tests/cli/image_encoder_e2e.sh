#!/usr/bin/env bash
# The ViT-MAE image encoder through the CLI on real product photos (the grocery benchmark's train
# photos of three products): train image (mae, resume, contrastive) -> embed fills the image
# space (a listing without a photo and one with a missing file are counted, not fatal) -> image
# index -> bench images; plus the errors a user meets before training. Skips (77) when
# ../shared/data is absent.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
grocery=$(realpath -m ../shared/data/grocerystore-packages)
if [ ! -f "$grocery/train.txt" ]; then echo "skip: no grocery photos at $grocery"; exit 77; fi
ws=$scratch/ws
mkdir -p "$scratch/data"
{
  echo "id,title,image"
  n=0
  for product in Arla-Standard-Milk Oatly-Oat-Milk Valio-Vanilla-Yoghurt; do
    for photo in $(grep -m 4 "/$product/" "$grocery/train.txt" | cut -d, -f1); do
      n=$((n + 1)); echo "g$n,${product//-/ } $n,$grocery/$photo"
    done
  done
  echo "nophoto,listing without a photo,"
  echo "gone,listing whose photo is missing,photos/missing.jpg"
} > "$scratch/data/listings.csv"
"$doppel" -q init "$ws"
"$doppel" -q ingest "$ws" "$scratch/data/listings.csv"
"$doppel" -q train text "$ws" --dim 8

expect_fail embed "$ws" --space image
check "image embedding before training says what to train" contains "$err" "doppel train image"
expect_fail train image "$ws" --stage contrastive
check "contrastive before mae asks for it" contains "$err" "--stage mae"

mae() { "$doppel" -q --threads 2 train image "$ws" --layers 1 --hidden 32 --heads 2 --cell-size 32 \
          --dim 8 --batch 8 "$@"; }
out=$(mae --max-steps 3)
check "mae ran 3 steps ($out)" contains "$out" "mae: 12 images, 3 steps"
out=$(mae --max-steps 5 --resume)
check "mae resumed to 5 steps ($out)" contains "$out" "5 steps"
for f in config.json model.safetensors encoder.json head.safetensors mae_log.json; do
  check "$f written" test -s "$ws/models/image/$f"
done
check "config.json has Hugging Face ViTMAE fields" grep -q '"model_type": "vit_mae"' "$ws/models/image/config.json"
out=$("$doppel" -q --threads 2 train image "$ws" --stage contrastive --max-steps 2 --batch 8)
check "contrastive stage ran ($out)" contains "$out" "contrastive: 12 images, 2 steps"

out=$("$doppel" -q embed "$ws")
check "embed fills text and image ($out)" contains "$out" "text: 14 encoded, 0 up to date"
check "image counts ($out)" contains "$out" "image: 12 encoded, 0 up to date, 1 without an image, 1 unreadable"
# A second embed encodes only what changed: here one listing's photo, its title unchanged.
out=$("$doppel" -q embed "$ws")
check "nothing changed, nothing encoded ($out)" contains "$out" "text: 0 encoded, 14 up to date"
check "listings without a readable photo are tried again ($out)" \
  contains "$out" "image: 0 encoded, 12 up to date, 1 without an image, 1 unreadable"
printf 'id,title,image\n%s,%s\n' "$(sed -n 2p "$scratch/data/listings.csv" | cut -d, -f1,2)" \
  "$(sed -n 3p "$scratch/data/listings.csv" | cut -d, -f3)" > "$scratch/data/new_photo.csv"
"$doppel" -q ingest "$ws" "$scratch/data/new_photo.csv"
out=$("$doppel" -q embed "$ws")
check "a changed photo is encoded again ($out)" contains "$out" "image: 1 encoded, 11 up to date"
check "its text vector stays ($out)" contains "$out" "text: 0 encoded, 14 up to date"
out=$("$doppel" -q embed "$ws" --all)
check "--all encodes every listing ($out)" contains "$out" "image: 12 encoded, 0 up to date"
# Without the codecs plugin the photos cannot be read: embed stops and says so, rather than
# counting every photo unreadable, and the stored vectors stay.
DOPPEL_CODECS_PLUGIN=$scratch/nowhere.so expect_fail embed "$ws" --all --space image
check "a missing codecs plugin is named ($err)" \
  contains "$err" "libdoppel_codecs.so.*could not be loaded"
out=$("$doppel" -q embed "$ws")
check "the image vectors outlived it ($out)" contains "$out" "image: 0 encoded, 12 up to date"
out=$("$doppel" -q embed "$ws" --space text)
check "--space text leaves images alone ($out)" test "$(grep -c image <<< "$out")" -eq 0
out=$("$doppel" -q index "$ws" --space image --spec Flat)
check "image index built ($out)" contains "$out" "indexed 12 vectors"
out=$("$doppel" -q index "$ws" --space image --check)
check "image index current ($out)" contains "$out" "current with catalog.db"

# The multimodal decider: labelled pairs among the photographed listings (same product = match).
{
  echo "id_a,id_b,label,split"
  splits=(train train valid test)
  for i in $(seq 1 12); do for j in $(seq $((i + 1)) 12); do
    echo "g$i,g$j,$(( (i - 1) / 4 == (j - 1) / 4 )),${splits[$(( (i * 7 + j) % 4 ))]}"
  done; done
} > "$scratch/data/pairs.csv"
"$doppel" -q ingest "$ws" "$scratch/data/pairs.csv"
"$doppel" -q index "$ws" --spec Flat
columns() { sed -n 's/^features: .* (\([0-9]*\) columns)$/\1/p' <<< "$1"; }
out=$("$doppel" -q train decider "$ws")
check "the default decider uses the image features ($out)" contains "$out" "features: pair,text,image ("
default_columns=$(columns "$out")
out=$("$doppel" -q train decider "$ws" --features pair,image,blocks --precision 0.9)
check "four-vector decider: |a-b| and a*b of 8-d text and image vectors add 32 columns ($out)" \
  test "$(columns "$out")" -eq $((default_columns + 32)) -a -n "$(grep 'pair,text,image,blocks' <<< "$out")"
out=$("$doppel" -q dedup "$ws" --out "$scratch/dedup" --k 3 --image-k 3)
check "dedup takes candidates by image too ($out)" grep -Eq "[0-9]+ by text, [1-9][0-9]* by image" <<< "$out"
out=$("$doppel" -q eval "$ws" --split test --out "$scratch/eval")
check "eval reports candidate recall by image ($out)" grep -Eq "image [0-9.]+, shared code" <<< "$out"
check "report has the per-source recall table" grep -q "image top-k" "$scratch/eval/report.md"
check "report links the photos of the worst errors" grep -q "| image A | image B |" "$scratch/eval/report.md"

out=$("$doppel" -q bench decider "$ws" --k 3 --reps 1)
check "bench decider times the decider beside a cosine threshold ($out)" \
  grep -q "features + XGBoost decider (1 model), compiled trees | [0-9]* |" <<< "$out"
check "bench decider times XGBoost's own predictor beside the compiled trees" \
  grep -q "XGBoost decider (1 model), XGBoost's predictor alone | [0-9]* |" <<< "$out"

out=$("$doppel" -q --threads 2 bench images --workspace "$ws" --no-baselines --grocery "$grocery")
check "bench images scores the workspace model on protocol B ($out)" contains "$out" "vitmae"
# The server with the image encoder: a match request's photo is searched in the image index and
# feeds the decider, an upserted listing's photo becomes its image vector (and leaves with it).
source "$(dirname "$0")/serve_lib.sh"
echo "image-token-$RANDOM" > "$scratch/token"
start_server "$ws" --token-file "$scratch/token" --image-root /
photo=$(sed -n 2p "$scratch/data/listings.csv" | cut -d, -f3)
status=$(api POST /v1/match "{\"title\": \"Arla Standard Milk\", \"image\": \"$photo\", \"k\": 3}")
check "match with a photo answers 200 ($status)" test "$status" = 200
check "the photo was used ($(cat "$scratch/body.json"))" grep -q '"used":true' "$scratch/body.json"
check "candidates come from the image index too" grep -q '"sources":\[[^]]*"image"' "$scratch/body.json"
status=$(api GET /health)
check "the image index holds the 12 photographed listings ($(cat "$scratch/body.json"))" \
  grep -q '"image_indexed":12' "$scratch/body.json"
image_rows() {
  python3 - "$ws/catalog.db" <<'PY'
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute(
    "SELECT count(*) FROM vectors v JOIN listings l ON l.key = v.key "
    "WHERE v.space = 'image' AND l.id = 'new1'").fetchone()[0])
PY
}
status=$(api PUT /v1/listings/new1 "{\"title\": \"Oatly oat milk 1 l\", \"image\": \"$photo\"}")
check "upsert with a photo ($status)" test "$status" = 201
check "its image vector is stored" test "$(image_rows)" = 1
# A kill -9 right after: the restarted server's image index (the saved one, older than new1)
# catches up from the vector log and holds new1.
kill -9 "$server_pid"
wait "$server_pid" 2> /dev/null || true
start_server "$ws" --token-file "$scratch/token" --image-root /
status=$(api POST /v1/match "{\"title\": \"zzz\", \"image\": \"$photo\", \"k\": 1, \"image_k\": 20}")
found_by_image() {
  python3 -c 'import json, sys
c = [c for c in json.load(open(sys.argv[1]))["candidates"] if c["id"] == sys.argv[2]]
sys.exit(0 if c and "image" in c[0]["sources"] else 1)' "$scratch/body.json" "$1"
}
check "after kill -9, new1 is found by its photo ($status)" found_by_image new1
status=$(api PUT /v1/listings/new1 '{"title": "Oatly oat milk 1 l"}')
check "upsert without the photo ($status)" test "$status" = 200
check "its image vector is gone" test "$(image_rows)" = 0
kill "$server_pid"
wait "$server_pid" || true
finish
