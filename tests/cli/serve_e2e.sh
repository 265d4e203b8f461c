#!/usr/bin/env bash
# doppel serve end to end: writes over HTTP while the server is killed with SIGKILL at an
# arbitrary moment; after a restart every acknowledged write is there (catalog, index, match).
# Then a graceful SIGTERM saves the index so that it is current with catalog.db.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
ws=$scratch/ws
build_served_workspace "$ws"
echo "e2e-token-$RANDOM$RANDOM" > "$scratch/token"
start_server "$ws" --token-file "$scratch/token"
listings=$(curl -s "$base/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["listings"])')

# Acknowledged deletes of existing listings, then a writer loop killed in the middle.
# (sed, not `tail | head`: head exiting early would SIGPIPE tail and, under pipefail, end the
# test silently, about one run in fifteen.)
sed -n 2,6p "$scratch/data/listings.csv" | cut -d, -f1 > "$scratch/to_delete.txt"
while read -r id; do
  check "delete $id acknowledged" test "$(api DELETE "/v1/listings/$id")" = 200
done < "$scratch/to_delete.txt"
: > "$scratch/acked.txt"
(
  i=0
  while true; do
    i=$((i + 1))
    code=$(api PUT "/v1/listings/e2e-$i" "{\"title\": \"Kraxon e2e gadget model KX$i edition $i\"}")
    case $code in 200|201) echo "e2e-$i" >> "$scratch/acked.txt" ;; 000*) exit 0 ;; esac
  done
) &
writer=$!
sleep 3
kill -9 "$server_pid"
wait "$server_pid" 2> /dev/null || true
wait "$writer" || true
acked=$(wc -l < "$scratch/acked.txt")
check "some writes were acknowledged before the kill ($acked)" test "$acked" -ge 5

start_server "$ws" --token-file "$scratch/token"
missing=0
while read -r id; do
  [ "$(api GET "/v1/listings/$id")" = 200 ] || { echo "lost: $id"; missing=$((missing + 1)); }
done < "$scratch/acked.txt"
check "every acknowledged upsert survived kill -9 ($acked)" test "$missing" -eq 0
while read -r id; do
  check "acknowledged delete of $id survived" test "$(api GET "/v1/listings/$id")" = 404
done < "$scratch/to_delete.txt"
last=$(tail -1 "$scratch/acked.txt")
n=${last#e2e-}
api POST /v1/match "{\"title\": \"Kraxon e2e gadget model KX$n edition $n\", \"k\": 3}" > /dev/null
top=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["candidates"][0]["id"])' "$scratch/body.json")
check "the last acknowledged listing is indexed and matched first ($top)" test "$top" = "$last"
health=$(curl -s "$base/health")
counts=$(python3 -c 'import json,sys; h=json.loads(sys.argv[1]); print(h["listings"], h["indexed"])' "$health")
read -r now indexed <<< "$counts"
check "index holds every listing after recovery ($now / $indexed)" test "$now" = "$indexed"
check "listing count adds up (before $listings, -5, +>= $acked)" test "$now" -ge $((listings - 5 + acked))

# A label posted here is training data for `doppel train decider`.
a=$(sed -n 7p "$scratch/data/listings.csv" | cut -d, -f1)
b=$(sed -n 8p "$scratch/data/listings.csv" | cut -d, -f1)
check "label stored" test "$(api POST /v1/labels "{\"id_a\": \"$a\", \"id_b\": \"$b\", \"match\": false}")" = 201

# Graceful stop: exit code 0 and a saved index that is current with catalog.db.
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
check "SIGTERM exits cleanly (status $status)" test "$status" -eq 0
check "the saved index is current (index --check)" "$doppel" -q index "$ws" --check
review=$(sqlite3 "$ws/catalog.db" "SELECT count(*) FROM labels WHERE source = 'review' AND split = 'train'")
check "review label in the train split ($review)" test "$review" -eq 1
check "train decider runs with the review label" "$doppel" -q train decider "$ws"
grep -q "$(cat "$scratch/token")" "$scratch/server.log" && check "token never logged" false
finish
