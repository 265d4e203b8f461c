#!/usr/bin/env bash
# `make demo`: the whole doppel path on a catalog the project generates itself (doppel synth),
# from raw CSV to duplicate clusters and an evaluation report. Outputs go to demo-out/.
set -euo pipefail
doppel=${1:-build/tools/doppel/doppel}
out=${DEMO_OUT:-demo-out}
rm -rf "$out"
mkdir -p "$out"

step() { printf '\n== %s\n' "$*"; }
step "generate a catalog: 600 products, each listed 1-4 times with seller-style titles"
"$doppel" synth --out "$out/data" --products 600 --seed 7
step "create a workspace and ingest listings + labelled pairs"
"$doppel" init "$out/ws"
"$doppel" ingest "$out/ws" "$out/data/listings.csv"
"$doppel" ingest "$out/ws" "$out/data/pairs.csv"
step "train the text encoder (TF-IDF + PCA to 128-d), embed, index (HNSW)"
"$doppel" train text "$out/ws"
"$doppel" embed "$out/ws"
"$doppel" index "$out/ws" --spec HNSW32
step "train the decider (train split; threshold chosen on valid)"
"$doppel" train decider "$out/ws"
step "dedup the whole catalog"
"$doppel" dedup "$out/ws" --out "$out/results"
step "evaluate on the held-out test pairs"
"$doppel" eval "$out/ws" --split test --out "$out/reports"

step "the same catalog without its labels: a decider from rules alone (train decider --bootstrap)"
"$doppel" init "$out/ws-unlabelled"
"$doppel" ingest "$out/ws-unlabelled" "$out/data/listings.csv"
"$doppel" train text "$out/ws-unlabelled"
"$doppel" embed "$out/ws-unlabelled"
"$doppel" index "$out/ws-unlabelled" --spec HNSW32
"$doppel" train decider "$out/ws-unlabelled" --bootstrap
"$doppel" ingest "$out/ws-unlabelled" "$out/data/pairs.csv"  # only to score it below
"$doppel" eval "$out/ws-unlabelled" --split test --out "$out/reports-unlabelled"

step "summary"
echo "listings:         $(($(wc -l < "$out/data/listings.csv") - 1))"
echo "duplicate pairs:  $(($(wc -l < "$out/results/pairs.csv") - 1))  ($out/results/pairs.csv)"
groups=$(tail -n +2 "$out/results/clusters.csv" | cut -d, -f2 | sort | uniq -c | awk '$1 > 1' | wc -l)
echo "duplicate groups: $groups  ($out/results/clusters.csv)"
python3 - "$out/reports/metrics.json" "$out/reports-unlabelled/metrics.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); t = m["at_threshold"]
print(f"test pairs:       {m['pairs']} labelled; precision {t['precision']:.3f}, recall "
      f"{t['recall']:.3f}, F1 {t['f1']:.3f}, macro F1 {t['macro_f1']:.3f}")
t = json.load(open(sys.argv[2]))["at_threshold"]
print(f"without labels:   precision {t['precision']:.3f}, recall {t['recall']:.3f}, "
      f"F1 {t['f1']:.3f} (train decider --bootstrap)")
PY
echo "report:           $out/reports/report.md (PR curve: $out/reports/pr_curve.svg)"
echo "first duplicate pairs found:"
head -6 "$out/results/pairs.csv"
