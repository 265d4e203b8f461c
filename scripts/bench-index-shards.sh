#!/usr/bin/env bash
# Building an IVF index in shards (docs/decisions.md, "The index is built in shards") against
# building it on one machine, on a copy of WORKSPACE's catalog.db (any embedded workspace, e.g. the
# 1M one of scripts/bench-serve.sh): `doppel index --spec SPEC`, then `--train-only`, each of
# SHARDS `index --shard i/SHARDS` one after the other (on a real fan-out they run at once, one per
# machine) and `merge`. Prints wall time and peak RSS of each step, and whether the merged index
# and its RDisk vectors equal the one-machine build's (every byte but the random generation that
# pairs an RDisk index with its vectors file).
# Usage: scripts/bench-index-shards.sh path/to/doppel WORKSPACE [out-folder]
# Environment: SPEC (default IVF4096,PQ32,RDisk), SHARDS (default 2), THREADS (default 2).
set -euo pipefail
doppel=$(realpath "$1")
source_ws=$(realpath "$2")
out=${3:-results/index-shards}
spec=${SPEC:-IVF4096,PQ32,RDisk}
shards=${SHARDS:-2}
rm -rf "$out"
mkdir -p "$out/ws/index"
cd "$out"
cp "$source_ws/catalog.db" ws/
step() {
  local name=$1
  shift
  /usr/bin/time -f "$name: %e s wall, %U s user, peak RSS %M KB" \
    "$doppel" -q --threads "${THREADS:-2}" "$@" > /dev/null 2>> steps.log
  tail -1 steps.log
}
step "one machine: index --spec $spec" index ws --spec "$spec"
cp ws/index/text.index one.index
[[ -f ws/index/text.index.vectors ]] && cp ws/index/text.index.vectors one.index.vectors
step "index --train-only" index ws --spec "$spec" --train-only
dirs=()
for ((i = 0; i < shards; i++)); do
  step "index --shard $i/$shards" index ws --shard "$i/$shards" --out "shard_$i"
  dirs+=("shard_$i")
done
step "merge" merge ws "${dirs[@]}"
python3 - <<'PY'
import os, struct
def without_generation(path, at):
    data = bytearray(open(path, "rb").read())
    data[at(data):at(data) + 8] = bytes(8)
    return bytes(data)
def index_generation(data):  # magic, version, dim, count, spec, node table (docs/index_format.md)
    pos = 28 + struct.unpack_from("<I", data, 24)[0]
    return pos + 8 + 8 * struct.unpack_from("<Q", data, pos)[0]
same = without_generation("one.index", index_generation) == \
    without_generation("ws/index/text.index", index_generation)
print("merged index equals the one-machine index:", same)
if os.path.exists("one.index.vectors"):
    same = without_generation("one.index.vectors", lambda _: 24) == \
        without_generation("ws/index/text.index.vectors", lambda _: 24)
    print("merged RDisk vectors equal the one-machine vectors:", same)
PY
