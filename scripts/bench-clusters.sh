#!/usr/bin/env bash
# Cluster quality on the Shopee subset (../shared/data/shopee-subset/train_subset.csv), whose
# label_group is the true clustering: pairwise precision/recall/F1 and Shopee's per-item F1 of
# `doppel dedup` with the average-linkage guard and with plain connected components.
#
# The subset has no labelled pairs, so `doppel synth shopee` derives them: label groups split
# 60/20/20 by a seeded hash, positives within groups, negatives the text-nearest postings of other
# groups plus one at random (src/synth/shopee_benchmark.h). The decider trains on the train pairs
# and takes its threshold from valid; dedup clusters the whole catalog; the scores count the valid
# groups (where a choice between linkages would be made) and the test groups (reported once).
# Usage: scripts/bench-clusters.sh [path/to/doppel] [out-folder]
# SEED: the group split's seed (1); K: dedup's candidates per listing (10); DECIDER_ARGS: options
# for `doppel train decider` (e.g. "--precision 0.9").
# Writes OUT/clusters_valid.md, OUT/clusters_test.md and the pair-level OUT/eval/report.md.
set -euo pipefail
doppel=${1:-build/tools/doppel/doppel}
out=${2:-results/clusters}
data=${DOPPEL_DATA:-../shared/data}
subset=$data/shopee-subset/train_subset.csv
[ -f "$subset" ] || { echo "bench-clusters: no Shopee subset at $subset" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
ws=$out/ws
"$doppel" -q synth shopee --data "$subset" --out "$out/data" --seed "${SEED:-1}"
"$doppel" -q init "$ws" > /dev/null
"$doppel" -q ingest "$ws" "$out/data/listings.csv" > /dev/null
"$doppel" -q ingest "$ws" "$out/data/pairs.csv" > /dev/null
"$doppel" -q train text "$ws" > /dev/null
"$doppel" -q embed "$ws" > /dev/null
"$doppel" -q index "$ws" --spec Flat > /dev/null
# shellcheck disable=SC2086  # DECIDER_ARGS is a list of options
"$doppel" -q train decider "$ws" ${DECIDER_ARGS:-} > /dev/null
"$doppel" -q eval "$ws" --split test --out "$out/eval" | tee "$out/eval.txt" >&2
for linkage in average components; do
  "$doppel" -q dedup "$ws" --out "$out/$linkage" --linkage "$linkage" --k "${K:-10}" \
    | tee "$out/dedup-$linkage.txt" >&2
done
for split in valid test; do
  "$doppel" -q eval-clusters "$out/data/clusters_$split.csv" "$out/average/clusters.csv" \
    "$out/components/clusters.csv" > "$out/clusters_$split.md"
done
cat "$out/clusters_test.md"
