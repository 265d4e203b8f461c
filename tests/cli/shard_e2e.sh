#!/usr/bin/env bash
# Sharded batch work (pipeline/shards.h): embed, index and dedup as 3 shards, folded back by
# merge, give what one unsharded run gives; incomplete, mixed or stale shard sets are refused.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ws=$scratch/ws
"$doppel" -q synth --out "$scratch/data" --products 120 --seed 5 > /dev/null
"$doppel" -q init "$ws" > /dev/null
"$doppel" -q ingest "$ws" "$scratch/data/listings.csv" > /dev/null
"$doppel" -q ingest "$ws" "$scratch/data/pairs.csv" > /dev/null
# Listings with model numbers, so that the pairs sharing a code (exact keys) are candidates too.
cat > "$scratch/models.csv" <<'CSV'
id,title,model_number
MN1,Sony compact camera silver,DSC-W120
MN2,Cyber-shot seven megapixel,dsc w120
MN3,Pocket camera W120 bundle,DSCW120
MN4,Wireless adapter USB,AB-1234
MN5,Network stick for laptops,ab1234
MN6,Lone gadget,XY-98765
CSV
"$doppel" -q ingest "$ws" "$scratch/models.csv" > /dev/null
"$doppel" -q train text "$ws" > /dev/null
cp -r "$ws" "$scratch/ws_sharded"

# --- embed: one run vs three shards merged into a copy of the workspace.
"$doppel" -q embed "$ws" > /dev/null
total=0
for i in 0 1 2; do
  out=$("$doppel" -q embed "$scratch/ws_sharded" --shard "$i/3" --out "$scratch/embed_$i")
  total=$((total + $(sed -E 's/.*: ([0-9]+) listings.*/\1/' <<< "$out")))
done
listings=$(($(wc -l < "$scratch/data/listings.csv") - 1 + $(wc -l < "$scratch/models.csv") - 1))
check "the three embed shards split the $listings listings ($total)" test "$total" -eq "$listings"
expect_fail merge "$scratch/ws_sharded" "$scratch/embed_0" "$scratch/embed_2"
check "an incomplete set is refused, naming the missing shard ($err)" contains "$err" "shards 1 of 3 are missing"
expect_fail merge "$scratch/ws_sharded" "$scratch/embed_0" "$scratch/embed_1" "$scratch/embed_1"
check "a shard given twice is refused ($err)" contains "$err" "given twice"
# A damaged shard stores nothing: a truncated file is refused before any page is stored, and a
# page the catalog refuses (a key it does not hold, in the last shard) undoes the pages before it.
text_vectors() { python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(
  \"SELECT COUNT(*) FROM vectors WHERE space = 'text'\").fetchone()[0])" "$1"; }
cp -r "$scratch/embed_2" "$scratch/embed_2_bad"
truncate -s -4 "$scratch/embed_2_bad/text.vectors"
expect_fail merge "$scratch/ws_sharded" "$scratch/embed_0" "$scratch/embed_1" "$scratch/embed_2_bad"
check "a truncated shard file is refused, naming it ($err)" contains "$err" "embed_2_bad/text.vectors: truncated"
cp "$scratch/embed_2/text.vectors" "$scratch/embed_2_bad/text.vectors"
python3 - "$scratch/embed_2_bad/text.vectors" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(12 + 16)  # the first key of the first page
    f.write(struct.pack("<q", 987654321))
PY
expect_fail merge "$scratch/ws_sharded" "$scratch/embed_0" "$scratch/embed_1" "$scratch/embed_2_bad"
check "a key the catalog does not hold is refused ($err)" contains "$err" "987654321"
check "and the shards merged before it are undone" test "$(text_vectors "$scratch/ws_sharded/catalog.db")" -eq 0
out=$("$doppel" -q merge "$scratch/ws_sharded" "$scratch/embed_0" "$scratch/embed_1" "$scratch/embed_2")
check "merge stores every listing's text vector ($out)" contains "$out" "$listings text vectors"
check "the merged vectors equal one run's (to float rounding)" python3 - "$ws/catalog.db" "$scratch/ws_sharded/catalog.db" <<'PY'
import sqlite3, struct, sys
def vectors(path):
    rows = sqlite3.connect(path).execute("SELECT key, data FROM vectors WHERE space = 'text'")
    return {k: struct.unpack(f"{len(d) // 4}f", d) for k, d in rows}
one, merged = vectors(sys.argv[1]), vectors(sys.argv[2])
assert one.keys() == merged.keys(), "different keys"
worst = max(abs(x - y) for k in one for x, y in zip(one[k], merged[k]))
assert worst < 1e-5, worst
PY

# --- index: an IVF index trained once, filled as three shards and merged, is byte for byte the
# index one machine builds.
"$doppel" -q index "$ws" --spec IVF4,SQ8 > /dev/null
cp "$ws/index/text.index" "$scratch/one.index"
expect_fail index "$ws" --shard 0/3 --out "$scratch/x"
check "a shard needs the trained index first ($err)" contains "$err" "--train-only"
"$doppel" -q index "$ws" --spec IVF4,SQ8 --train-only > /dev/null
for i in 0 1 2; do
  "$doppel" -q index "$ws" --shard "$i/3" --out "$scratch/index_$i" > /dev/null
done
expect_fail merge "$ws" "$scratch/index_0" "$scratch/index_1" "$scratch/embed_2"
check "index and embed shards do not mix ($err)" contains "$err" "embed_2"
out=$("$doppel" -q merge "$ws" "$scratch/index_0" "$scratch/index_1" "$scratch/index_2")
check "merge stores the text index ($out)" contains "$out" "$listings text vectors"
check "the merged index equals one machine's" cmp "$scratch/one.index" "$ws/index/text.index"
out=$("$doppel" -q index "$ws" --check)
check "the merged index is current with catalog.db ($out)" contains "$out" "current with catalog.db"
expect_fail index "$ws" --spec HNSW32 --train-only
check "an HNSW index is not built in shards ($err)" contains "$err" "cannot be built in shards"
"$doppel" -q index "$ws" --spec IVF2,SQ8 --train-only > /dev/null
expect_fail merge "$ws" "$scratch/index_0" "$scratch/index_1" "$scratch/index_2"
check "shards of an older training are refused ($err)" contains "$err" "re-run the shards"

# --- dedup: one run vs three shards merged, on the same workspace: identical files.
"$doppel" -q index "$ws" --spec Flat > /dev/null
"$doppel" -q train decider "$ws" > /dev/null
one=$("$doppel" -q dedup "$ws" --out "$scratch/dedup_one")
one_exact=$(sed -nE 's/.*, ([0-9]+) by shared code.*/\1/p' <<< "$one")
for i in 0 1 2; do
  "$doppel" -q dedup "$ws" --shard "$i/3" --out "$scratch/dedup_$i" > /dev/null
done
exact=$(python3 -c 'import json, sys
print(sum(json.load(open(f"{d}/shard.json"))["exact_key_candidates"] for d in sys.argv[1:]))' \
  "$scratch"/dedup_0 "$scratch"/dedup_1 "$scratch"/dedup_2)
check "the shards found the pairs that share a code, as one run does ($exact, $one_exact)" \
  test "$exact" -eq "$one_exact" -a "$exact" -ge 4
out=$("$doppel" -q merge "$ws" "$scratch/dedup_0" "$scratch/dedup_1" "$scratch/dedup_2" --out "$scratch/dedup_merged")
check "merge writes pairs and clusters ($out)" contains "$out" "merged 3 dedup shards"
for f in pairs.csv clusters.csv; do
  check "merged $f equals one run's" cmp "$scratch/dedup_one/$f" "$scratch/dedup_merged/$f"
done
expect_fail merge "$ws" "$scratch/dedup_0" "$scratch/embed_1" "$scratch/dedup_2" --out "$scratch/x"
check "embed and dedup shards do not mix ($err)" contains "$err" "embed_1"

# A catalog that changed after the shards were made is refused: nothing stale is merged.
printf 'id,title\nLATE1,A listing that arrived after the shards ran\n' > "$scratch/late.csv"
"$doppel" -q ingest "$ws" "$scratch/late.csv" > /dev/null
expect_fail merge "$ws" "$scratch/dedup_0" "$scratch/dedup_1" "$scratch/dedup_2" --out "$scratch/x"
check "shards of an older catalog state are refused ($err)" contains "$err" "re-run the shards"
expect_fail embed "$ws" --shard 3/3 --out "$scratch/x"
check "a shard number out of range is refused ($err)" contains "$err" "'3/3' is not i/N"
finish
