#!/usr/bin/env bash
# Online-service benchmark: builds a workspace of about N synthetic listings (text only), starts
# `doppel serve` on 127.0.0.1 and loads it with `doppel bench serve` (closed-loop clients on this
# same machine): match QPS and p50/p90/p99 at 1, 2 and 4 connections, then a mixed load with 10%
# upserts, and the server's RSS before and after.
#
# Usage: scripts/bench-serve.sh [--listings N] [--spec SPEC] [--seconds S] [--max-pairs P]
#                              [--soak S] [--out DIR] [--images P [--image-spec SPEC]]
#   DOPPEL=path/to/doppel (default build/tools/doppel/doppel). Defaults: N = 100000,
#   SPEC = HNSW32 (efConstruction=200, efSearch=128), S = 20, DIR = results/bench-serve-N.
#   --soak S adds a soak run: S seconds of 2 connections with 2% upserts, the server's RSS
#   printed every S/10 seconds.
#   --max-pairs P trains the decider on the first P labelled pairs only (at 1M listings the
#   synthetic catalog has ~3.9M; P = 300000 keeps training to minutes).
#   --images P measures matching with photos instead (DIR defaults to results/bench-serve-images-N):
#   the workspace gets the image encoder of $IMAGE_MODEL (default
#   results/multimodal/ws/models/image, trained by scripts/bench-multimodal.sh), P grocery
#   photos ($GROCERY, default ../shared/data/grocerystore-packages) are embedded by it as a pool,
#   and every listing gets a synthetic image vector: a pool vector plus noise, written through
#   the normal vector path (`doppel bench fill-image-vectors`; embedding 1M photos on 2 cores
#   would take hours). Then an image index (--image-spec, default IVF1024,Flat,nprobe=16) and a
#   decider retrained with the image features. Every request carries one of the pool photos,
#   which the server reads, decodes and embeds with the real encoder before searching text and
#   image indexes; a last run sends text-only requests to the same server for comparison.
#   The workspace is kept in DIR/ws and reused when present (delete it to rebuild); the upserts
#   of the mixed run stay in it, so a rerun serves a few hundred more listings.
#   Writes DIR/results.txt. On this 2-core VM building the 100k workspace takes ~10 min (the
#   HNSW build most of it); the load generator shares the cores with the server.
set -euo pipefail
doppel=${DOPPEL:-build/tools/doppel/doppel}
[ -x "$doppel" ] || { echo "bench-serve: no doppel binary at $doppel (set DOPPEL=...)" >&2; exit 1; }
listings=100000 spec=HNSW32 seconds=20 out="" max_pairs=0 soak=0 images=0
image_spec="IVF1024,Flat,nprobe=16"
while [ $# -gt 0 ]; do
  case $1 in
    --listings) listings=$2; shift 2 ;;
    --spec) spec=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --max-pairs) max_pairs=$2; shift 2 ;;
    --soak) soak=$2; shift 2 ;;
    --images) images=$2; shift 2 ;;
    --image-spec) image_spec=$2; shift 2 ;;
    *) echo "bench-serve: unknown option $1" >&2; exit 1 ;;
  esac
done
if [ "$images" -gt 0 ]; then out=${out:-results/bench-serve-images-$listings}; fi
out=${out:-results/bench-serve-$listings}
mkdir -p "$out"
ws=$out/ws
export OMP_WAIT_POLICY=PASSIVE
if [ ! -f "$ws/index/text.index.json" ]; then
  rm -rf "$ws" "$out/data"
  # doppel synth makes ~2.24 listings per product.
  "$doppel" synth --out "$out/data" --products $((listings * 100 / 224)) --seed 42
  "$doppel" init "$ws"
  "$doppel" ingest "$ws" "$out/data/listings.csv"
  pairs=$out/data/pairs.csv
  if [ "$max_pairs" -gt 0 ]; then
    head -n $((max_pairs + 1)) "$out/data/pairs.csv" > "$out/pairs_subset.csv"
    pairs=$out/pairs_subset.csv
  fi
  "$doppel" ingest "$ws" "$pairs"
  "$doppel" train text "$ws"
  "$doppel" embed "$ws"
  "$doppel" index "$ws" --spec "$spec"
  "$doppel" train decider "$ws"
fi
serve_args=() load_args=() kind=text-only
if [ "$images" -gt 0 ]; then
  grocery=$(realpath "${GROCERY:-../shared/data/grocerystore-packages}")
  image_model=${IMAGE_MODEL:-results/multimodal/ws/models/image}
  if [ ! -f "$image_model/encoder.json" ]; then
    echo "bench-serve: no image encoder at $image_model (set IMAGE_MODEL=...)" >&2; exit 1
  fi
  # P of the photos present, spread evenly over the training list (it is sorted by product).
  sed 's/,.*//' "$grocery/train.txt" | while read -r photo; do
    if [ -f "$grocery/$photo" ]; then echo "$grocery/$photo"; fi
  done > "$out/present.txt"
  awk -v p="$images" -v total="$(wc -l < "$out/present.txt")" \
    'BEGIN { step = int(total / p); if (step < 1) step = 1 } (NR - 1) % step == 0 && n++ < p' \
    "$out/present.txt" > "$out/photos.txt"
  if [ ! -f "$ws/index/image.index.json" ]; then
    rm -rf "$ws/models/image"
    cp -r "$image_model" "$ws/models/image"
    "$doppel" bench fill-image-vectors "$ws" --photos "$out/photos.txt"
    "$doppel" index "$ws" --space image --spec "$image_spec"
    "$doppel" train decider "$ws"
  fi
  serve_args+=(--image-root "$grocery") load_args=(--images "$out/photos.txt") kind="with a photo"
fi
python3 -c 'import csv,sys
for row in csv.DictReader(open(sys.argv[1])): print(row["title"])' "$out/data/listings.csv" \
  > "$out/titles.txt"
head -c 24 /dev/urandom | base64 > "$out/token"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start=$(date +%s)
"$doppel" serve "$ws" --port "$port" --token-file "$out/token" --threads 4 "${serve_args[@]}" \
  > "$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2> /dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$port/health" > /dev/null; do
  kill -0 "$server" || { cat "$out/server.log"; exit 1; }
  sleep 0.5
done
# RSS, and of it the anonymous part (heap); the rest is file-backed: the code and libraries, and
# a saved IVF index's lists, which are memory-mapped (reclaimable page cache).
rss() {
  echo "$(($(awk '/VmRSS/ {print $2}' "/proc/$server/status") / 1024)) MiB" \
    "(anonymous $(($(awk '/RssAnon/ {print $2}' "/proc/$server/status") / 1024)) MiB)"
}
{
  echo "# doppel bench serve, $(date -u +%Y-%m-%d), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "workspace: $(curl -s "http://127.0.0.1:$port/health")"
  echo "catalog.db: $(($(stat -c %s "$ws/catalog.db") / 1048576)) MiB"
  echo "server ready in $(($(date +%s) - start)) s, RSS $(rss)"
  load() { "$doppel" bench serve --port "$port" --titles "$out/titles.txt" "${load_args[@]}" "$@"; }
  load --connections 2 --seconds 3 > /dev/null  # warm-up
  for connections in 1 2 4; do
    echo "## match $kind, $connections connection(s), ${seconds} s"
    load --connections "$connections" --seconds "$seconds"
  done
  echo "## mixed: 10% upserts of new listings ($kind), 2 connections, ${seconds} s"
  load --connections 2 --seconds "$seconds" --write-fraction 0.1 --token-file "$out/token"
  if [ "$images" -gt 0 ]; then
    echo "## for comparison: text-only match on the same server, 1 connection, ${seconds} s"
    "$doppel" bench serve --port "$port" --titles "$out/titles.txt" --connections 1 \
      --seconds "$seconds"
  fi
  echo "server RSS after the runs: $(rss)"
  if [ "$soak" -gt 0 ]; then
    echo "## soak: 2% upserts, 2 connections, ${soak} s; server RSS every $((soak / 10)) s"
    load --connections 2 --seconds "$soak" --write-fraction 0.02 --token-file "$out/token" &
    load=$!
    for i in $(seq 1 10); do
      sleep $((soak / 10))
      echo "t = $((i * soak / 10)) s: RSS $(rss), $(curl -s "http://127.0.0.1:$port/health" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["listings"], "listings")')"
    done
    wait "$load"
  fi
} | tee "$out/results.txt"
kill -TERM "$server"
wait "$server"
