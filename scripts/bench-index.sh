#!/usr/bin/env bash
# Index benchmark on the FAISS anchor's data family and spec list
# (../shared/anchors/faiss-on-this-machine.md), through `doppel bench index`.
#
# Usage: scripts/bench-index.sh [--n N] [--out DIR] [any other `doppel bench index` option]
#   DOPPEL=path/to/doppel (default build/tools/doppel/doppel); SPECS='a;b' overrides the list.
#   Writes DIR/results.md (the anchor's main-table columns) and DIR/results.json;
#   default DIR = results/bench-index (n = 1,000,000, 1000 queries, seed 2024).
#
# Specs that this build's make_index does not accept are not run: doppel prints
# "skip SPEC: reason" for each and benchmarks the rest. Each spec is built from scratch, so IVF
# rows pay their own k-means; to measure one build at several nprobe / k_factor / efSearch
# values, pass --search-params "nprobe=64;nprobe=128,k_factor=32" (one extra row per set).
#
# Expected run time on this 2-core VM (from the anchor's 500k timings, scalar FAISS 1.7.3):
#   n = 1M:  about 60-75 min for the whole list: the two HNSW32 efConstruction=40 rows
#            ~4-5 min each, the efConstruction=200 (doppel's default) row ~20 min, each
#            IVF4096 row 1-3 min (k-means on 163,840 rows ~30 s, PQ training +60 s),
#            OPQ ~7 min, Flat ~1 min (single-query latency stops after 30 s).
#            Peak memory ~2-3 GiB (0.5 GiB of vectors + the largest index twice).
#   n = 10M: scripts/bench-index.sh --n 10000000 --out results/bench-index-10M
#            several hours (HNSW32 alone: ~45 min per efConstruction=40 row, ~4 h for
#            efConstruction=200; IVF adds ~3 min of coarse assignment per row); ~5 GiB of
#            vectors + up to 8 GiB of index (HNSW) in memory. With 4096 lists the scanned
#            vectors per query grow 10x; add e.g. SPECS='Flat;IVF16384,Flat,nprobe=16;...'
#            to keep latencies comparable. Data generation ~25-55 s; exact ground truth
#            (2.6 TFLOP of sgemm; OpenBLAS picks its SSE3 kernel on this VM) ~1-2 min.
set -euo pipefail
doppel=${DOPPEL:-build/tools/doppel/doppel}
[ -x "$doppel" ] || { echo "bench-index: no doppel binary at $doppel (set DOPPEL=...)" >&2; exit 1; }

# The anchor's main table, in doppel's spec syntax (search parameters appended to the spec).
default_specs=(
  "Flat"
  "IVF4096,Flat,nprobe=16"
  "IVF4096,Flat,nprobe=64"
  "IVF4096,SQ8,nprobe=16"
  "IVF4096,SQ8,nprobe=64"
  "IVF4096,PQ32,nprobe=16"
  "IVF4096,PQ32,nprobe=64"
  "IVF4096,PQ32,RFlat,nprobe=16,k_factor=4"
  "IVF4096,PQ32,RFlat,nprobe=64,k_factor=4"
  "IVF4096,PQ32,Refine(SQ8),nprobe=16,k_factor=4"
  "IVF4096,PQ32,Refine(SQ8),nprobe=64,k_factor=4"
  "IVF4096,PQ16,nprobe=32"
  "HNSW32,efConstruction=40,efSearch=64"
  "HNSW32,efConstruction=40,efSearch=128"
  "HNSW32,efConstruction=200,efSearch=128"
  "OPQ16,IVF4096,PQ16,nprobe=32"
)
specs=${SPECS:-$(IFS=';'; echo "${default_specs[*]}")}

# libgomp reads this at start-up: without it, spinning OpenMP threads stall FAISS's short
# parallel regions when another job shares the cores (4x slower training in the anchor).
export OMP_WAIT_POLICY=PASSIVE

# Defaults for the options the caller did not give (doppel rejects an option given twice).
args=()
for default in "--n 1000000" "--dim 128" "--queries 1000" "--seed 2024" "--out results/bench-index"; do
  name=${default%% *}
  given=false
  for arg in "$@"; do [ "$arg" = "$name" ] && given=true; done
  $given || args+=($default)
done
echo "bench-index: $doppel bench index ${args[*]} $* --specs '$specs'" >&2
start=$(date +%s)
"$doppel" bench index "${args[@]}" "$@" --specs "$specs"
echo "bench-index: finished in $(( $(date +%s) - start )) s" >&2
