#!/usr/bin/env bash
# Start-up costs of the doppel binary, for docs/results.md ("The neural plugin", "Image codecs in
# a plugin"): the shared libraries it loads, `doppel --help` (perf stat, 10 runs), and on a workspace
# the time until `doppel serve` answers GET /health with its RSS then, and a one-off
# `doppel match` of one listing with its peak RSS.
#
# Usage: scripts/bench-startup.sh WS [BIN...]
#   WS: a trained and indexed workspace (e.g. results/serve-base/ws from scripts/bench-serve.sh
#   --spec "IVF1024,Flat,nprobe=16"). BIN: binaries to compare, run interleaved, RUNS rounds
#   (default 3); default build/tools/doppel/doppel. Needs perf and curl.
set -euo pipefail
ws=$1
shift
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=(build/tools/doppel/doppel)
runs=${RUNS:-3}
port=${PORT:-18180}
query=$(mktemp)
trap 'rm -f "$query"' EXIT
echo '{"title": "Apple iPhone 13 128GB Midnight", "brand": "Apple"}' > "$query"

seconds_since() { echo "$(date +%s.%N) - $1" | bc; }

serve_ready() {  # BIN: seconds until /health is 200, and VmRSS then
  local start pid rss
  start=$(date +%s.%N)
  "$1" -q serve "$ws" --port "$port" > /dev/null 2>&1 &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/health" > /dev/null; do
    kill -0 "$pid" 2> /dev/null || { echo "serve exited before it was ready" >&2; return 1; }
    sleep 0.01
  done
  local ready
  ready=$(seconds_since "$start")
  rss=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status")
  kill "$pid"
  wait "$pid" 2> /dev/null || true
  echo "serve ready ${ready} s, RSS ${rss} MB"
}

for bin in "${bins[@]}"; do echo "$bin: $(ldd "$bin" | wc -l) shared libraries"; done
for round in $(seq "$runs"); do
  for bin in "${bins[@]}"; do
    help=$(perf stat -r 10 "$bin" --help 2>&1 > /dev/null | awk '/elapsed/ {print $1}')
    match=$( { /usr/bin/time -f "%e s, peak RSS %M KB" "$bin" -q match "$ws" "$query" \
               > /dev/null; } 2>&1)
    echo "round $round $bin: --help ${help} s; $(serve_ready "$bin"); match ${match}"
  done
done
