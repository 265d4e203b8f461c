#!/usr/bin/env bash
# kill -9 during `doppel index` must leave the previous index loadable: the index file and its
# state are each replaced by an atomic rename, and a half-done build is never visible.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ws=$scratch/ws
"$doppel" -q synth --out "$scratch/data" --products 1500 --seed 5
"$doppel" -q init "$ws"
"$doppel" -q ingest "$ws" "$scratch/data/listings.csv"
"$doppel" -q train text "$ws"
"$doppel" -q embed "$ws" > /dev/null
"$doppel" -q index "$ws" --spec HNSW32 > /dev/null
"$doppel" -q index "$ws" --check > /dev/null

# Time one full build, then kill builds at points spread over its second half and just past
# its end, where the save happens: each kill must leave an index that loads and is current.
start=$EPOCHREALTIME
"$doppel" -q index "$ws" --spec HNSW32,efConstruction=400 > /dev/null
full=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
echo "a full build takes ${full}s"
for fraction in 0.6 0.8 0.9 0.95 1.0 1.05; do
  delay=$(awk -v t="$full" -v f="$fraction" 'BEGIN { printf "%.3f", t * f }')
  "$doppel" -q index "$ws" --spec HNSW32,efConstruction=400 > /dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
  check "index loads after kill -9 at ${delay}s" "$doppel" -q index "$ws" --check
done
# The worst moment, made certain: the new index is written and synced, then the process dies
# before the rename (the fault seam in util/files.cc).
before=$(md5sum < "$ws/index/text.index")
status=0
DOPPEL_CRASH_BEFORE_RENAME=text.index "$doppel" -q index "$ws" --spec Flat > /dev/null 2>&1 || status=$?
check "the crash seam fired (exit $status)" test "$status" -eq 137
check "a synced temporary file was left behind" test -n "$(find "$ws/index" -name 'text.index.tmp.*')"
check "the previous index is untouched" test "$(md5sum < "$ws/index/text.index")" = "$before"
check "index loads after a crash before rename" "$doppel" -q index "$ws" --check
# Dying between the index and its state file leaves a new index with the old state: still usable.
DOPPEL_CRASH_BEFORE_RENAME=text.index.json "$doppel" -q index "$ws" --spec Flat > /dev/null 2>&1 || true
check "index loads after a crash between index and state" "$doppel" -q index "$ws" --check

# An IVF index reads its lists from a mapping of its file; saving it unchanged over that file
# (new search parameters, or an update with nothing to apply) must write the lists, not a
# reference to the file being replaced.
"$doppel" -q index "$ws" --spec IVF32,Flat,nprobe=4 > /dev/null
"$doppel" -q index "$ws" --search-params nprobe=8 > /dev/null
"$doppel" -q index "$ws" --update > /dev/null
out=$("$doppel" -q index "$ws" --check)
check "an IVF index saved unchanged twice still loads ($out)" contains "$out" "IVF32,Flat,nprobe=8"
finish
