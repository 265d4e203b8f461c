# Helpers for the `doppel serve` end-to-end tests; sourced after lib.sh.

# A trained, indexed workspace of a small synthetic catalog in $1 (data in $scratch/data).
build_served_workspace() {
  local ws=$1
  "$doppel" -q synth --out "$scratch/data" --products ${PRODUCTS:-150} --seed 5
  "$doppel" -q init "$ws"
  "$doppel" -q ingest "$ws" "$scratch/data/listings.csv"
  "$doppel" -q ingest "$ws" "$scratch/data/pairs.csv"
  "$doppel" -q train text "$ws"
  "$doppel" -q embed "$ws" > /dev/null
  "$doppel" -q index "$ws" --spec HNSW32 > /dev/null
  "$doppel" -q train decider "$ws" > /dev/null
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server WS [flags...]: runs doppel serve in the background on a free port and waits
# until /health answers 200. Sets $port, $base and $server_pid; the log is $scratch/server.log.
start_server() {
  local ws=$1; shift
  port=$(free_port)
  base="http://127.0.0.1:$port"
  "$doppel" serve "$ws" --port "$port" "$@" >> "$scratch/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 600); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/health")" = 200 ]; then return 0; fi
    if ! kill -0 "$server_pid" 2> /dev/null; then
      echo "server exited; its log:"; cat "$scratch/server.log"; return 1
    fi
    sleep 0.1
  done
  echo "server not ready after 60 s"; return 1
}

# api METHOD PATH [JSON]: prints the status code; the body is in $scratch/body.json.
api() {
  local method=$1 path=$2 data=${3:-}
  local args=(-s -o "$scratch/body.json" -w '%{http_code}' -X "$method"
              -H "Authorization: Bearer $(cat "$scratch/token")")
  [ -n "$data" ] && args+=(-H 'Content-Type: application/json' --data "$data")
  curl "${args[@]}" "$base$path" || true  # prints 000 when nothing answered
}
