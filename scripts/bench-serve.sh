#!/usr/bin/env bash
# Online-service benchmark: builds a workspace of about N synthetic listings (text only), starts
# `doppel serve` on 127.0.0.1 and loads it with `doppel bench serve` (closed-loop clients on this
# same machine): match QPS and p50/p90/p99 at 1, 2 and 4 connections, then a mixed load with 10%
# upserts, and the server's RSS before and after.
#
# Usage: scripts/bench-serve.sh [--listings N] [--spec SPEC] [--seconds S] [--max-pairs P]
#                              [--soak S] [--out DIR]
#   DOPPEL=path/to/doppel (default build/tools/doppel/doppel). Defaults: N = 100000,
#   SPEC = HNSW32 (efConstruction=200, efSearch=128), S = 20, DIR = results/bench-serve-N.
#   --soak S adds a soak run: S seconds of 2 connections with 2% upserts, the server's RSS
#   printed every S/10 seconds.
#   --max-pairs P trains the decider on the first P labelled pairs only (at 1M listings the
#   synthetic catalog has ~3.9M; P = 300000 keeps training to minutes).
#   The workspace is kept in DIR/ws and reused when present (delete it to rebuild); the upserts
#   of the mixed run stay in it, so a rerun serves a few hundred more listings.
#   Writes DIR/results.txt. On this 2-core VM building the 100k workspace takes ~10 min (the
#   HNSW build most of it); the load generator shares the cores with the server.
set -euo pipefail
doppel=${DOPPEL:-build/tools/doppel/doppel}
[ -x "$doppel" ] || { echo "bench-serve: no doppel binary at $doppel (set DOPPEL=...)" >&2; exit 1; }
listings=100000 spec=HNSW32 seconds=20 out="" max_pairs=0 soak=0
while [ $# -gt 0 ]; do
  case $1 in
    --listings) listings=$2; shift 2 ;;
    --spec) spec=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --max-pairs) max_pairs=$2; shift 2 ;;
    --soak) soak=$2; shift 2 ;;
    *) echo "bench-serve: unknown option $1" >&2; exit 1 ;;
  esac
done
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
python3 -c 'import csv,sys
for row in csv.DictReader(open(sys.argv[1])): print(row["title"])' "$out/data/listings.csv" \
  > "$out/titles.txt"
head -c 24 /dev/urandom | base64 > "$out/token"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start=$(date +%s)
"$doppel" serve "$ws" --port "$port" --token-file "$out/token" --threads 4 > "$out/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2> /dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$port/health" > /dev/null; do
  kill -0 "$server" || { cat "$out/server.log"; exit 1; }
  sleep 0.5
done
rss() { echo "$(($(awk '/VmRSS/ {print $2}' "/proc/$server/status") / 1024)) MiB"; }
{
  echo "# doppel bench serve, $(date -u +%Y-%m-%d), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "workspace: $(curl -s "http://127.0.0.1:$port/health")"
  echo "server ready in $(($(date +%s) - start)) s, RSS $(rss)"
  "$doppel" bench serve --port "$port" --titles "$out/titles.txt" --connections 2 --seconds 3 > /dev/null  # warm-up
  for connections in 1 2 4; do
    echo "## text-only match, $connections connection(s), ${seconds} s"
    "$doppel" bench serve --port "$port" --titles "$out/titles.txt" --connections "$connections" \
      --seconds "$seconds"
  done
  echo "## mixed: 10% upserts of new listings, 2 connections, ${seconds} s"
  "$doppel" bench serve --port "$port" --titles "$out/titles.txt" --connections 2 \
    --seconds "$seconds" --write-fraction 0.1 --token-file "$out/token"
  echo "server RSS after the runs: $(rss)"
  if [ "$soak" -gt 0 ]; then
    echo "## soak: 2% upserts, 2 connections, ${soak} s; server RSS every $((soak / 10)) s"
    "$doppel" bench serve --port "$port" --titles "$out/titles.txt" --connections 2 \
      --seconds "$soak" --write-fraction 0.02 --token-file "$out/token" &
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
