#!/usr/bin/env bash
# Index memory per vector against the vector's dimension, to set beside the reference system's
# RAM table (10M vectors under Milvus IVF_FLAT: 5.5 / 10.2 / 20 / 39.7 GB at 128/256/512/1024-d).
# For each d, `doppel bench index` builds IVF_FLAT, IVF+SQ8, IVF+PQ32 and HNSW32 on N synthetic
# vectors (default 100,000) and measures file bytes and anonymous-RSS growth per vector; the 10M
# column scales the per-vector file size (centroid table excluded) to 10M vectors and adds the
# centroid table back. Memory per vector does not depend on how well the centroids are trained,
# so training uses TRAIN_ROWS rows (default 40,960 = 40 per list).
# Usage: scripts/bench-index-dims.sh [path/to/doppel] [out-folder]
set -euo pipefail
doppel=${1:-build/tools/doppel/doppel}
out=${2:-results/index-dims}
n=${N:-100000}
nlist=1024
rm -rf "$out"
mkdir -p "$out"
for d in ${DIMS:-128 256 512 1024}; do
  echo "== d = $d" >&2
  "$doppel" -q bench index --n "$n" --dim "$d" --queries 200 --train-rows "${TRAIN_ROWS:-40960}" \
    --specs "IVF$nlist,Flat;IVF$nlist,SQ8;IVF$nlist,PQ32;HNSW32" --latency-queries 100 \
    --latency-budget 5 --out "$out/d$d" > /dev/null
done
python3 - "$out" "$n" "$nlist" ${DIMS:-128 256 512 1024} > "$out/dims.md" <<'PY'
import json, sys
out, n, nlist, dims = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), [int(d) for d in sys.argv[4:]]
milvus = {128: 5.5, 256: 10.2, 512: 20.0, 1024: 39.7}  # GB for 10M vectors, IVF_FLAT
print(f"n = {n:,} synthetic vectors per d; IVF specs with {nlist} lists.\n")
print("| d | index | B/vec (file) | RSS build B/vec | 10M vectors, GB | reference Milvus IVF_FLAT 10M, GB | recall@10 | dup@10 |")
print("|---:|---|---:|---:|---:|---:|---:|---:|")
for d in dims:
    rows = json.load(open(f"{out}/d{d}/results.json"))
    rows = rows["rows"] if isinstance(rows, dict) else rows
    for r in rows:
        spec = r["spec"]
        centroids = nlist * d * 4 if spec.startswith("IVF") else 0
        per_vector = (r["file_bytes_per_vector"] * n - centroids) / n
        ten_m = (per_vector * 10_000_000 + centroids) / 1e9
        ref = f"{milvus[d]}" if spec.endswith(",Flat") else ""
        print(f"| {d} | {spec} | {r['file_bytes_per_vector']:.1f} | {r['rss_build_bytes_per_vector']:.0f} | "
              f"{ten_m:.2f} | {ref} | {r['recall_at_10']:.3f} | {r['dup_at_10']:.3f} |")
PY
cat "$out/dims.md"
