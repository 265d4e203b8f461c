#!/usr/bin/env bash
# What `doppel embed` costs after a catalog changes a little, against encoding every listing
# (`embed --all`, what embed did before it kept a digest per vector; docs/decisions.md, "doppel
# embed encodes only what changed"). On a synthetic catalog of PRODUCTS products (default 12,000:
# about 26,600 listings) with the default-size BERT text encoder (L4-H128; trained for a few
# steps only: its speed, not its accuracy, is what is measured), times in seconds:
#   1. the first embed (every listing), 2. an embed with nothing changed, 3. after CHANGED
#   listings (default 100) were re-ingested with new titles, 4. after 10 x CHANGED listings were
#   re-ingested with new prices only (read by no encoder), 5. `embed --all`.
# Usage: scripts/bench-embed-incremental.sh [path/to/doppel] [out-folder]
set -euo pipefail
doppel=$(realpath "${1:-build/tools/doppel/doppel}")
out=${2:-results/embed-incremental}
products=${PRODUCTS:-12000}
changed=${CHANGED:-100}
rm -rf "$out"
mkdir -p "$out"
cd "$out"
d() { "$doppel" -q --threads 2 "$@"; }
d synth --out data --products "$products" --seed 5 > /dev/null
d init ws > /dev/null
d ingest ws data/listings.csv > /dev/null
d ingest ws data/pairs.csv > /dev/null
d train tokenizer ws --vocab-size 8000 > /dev/null
d train text ws --stage mlm --max-steps 20 > /dev/null
d train text ws --stage match --epochs 1 --folds 1 --patience 0 > /dev/null
# Upserts (same ids) of the first N listings with a word added to their titles, or of the last
# N with a new price: rewrite title|price N > file.
rewrite() {
  python3 - data/listings.csv "$1" "$2" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
w = csv.DictWriter(sys.stdout, fieldnames=rows[0].keys(), lineterminator="\n")
w.writeheader()
n = int(sys.argv[3])
for row in rows[:n] if sys.argv[2] == "title" else rows[-n:]:
    if sys.argv[2] == "title":
        row["title"] += " refurbished"
    else:
        row["price"] = f"{float(row['price'] or 10) * 0.9:.2f}"
    w.writerow(row)
PY
}
rewrite title "$changed" > data/changed.csv
rewrite price $((changed * 10)) > data/repriced.csv
timed() {  # label, then the embed arguments; prints "label<TAB>seconds<TAB>embed's summary"
  local label=$1 start summary
  shift
  start=$EPOCHREALTIME
  summary=$(d embed ws "$@")
  printf '%s\t%s\t%s\n' "$label" "$(awk -v a="$start" -v b="$EPOCHREALTIME" \
    'BEGIN { printf "%.2f", b - a }')" "$summary"
}
{
  echo "# $(($(wc -l < data/listings.csv) - 1)) listings, $(nproc) cores, $(date -u +%F)"
  timed "first embed" --all
  timed "nothing changed"
  d ingest ws data/changed.csv > /dev/null
  timed "$changed titles changed"
  d ingest ws data/repriced.csv > /dev/null
  timed "$((changed * 10)) prices changed"
  timed "embed --all" --all
} | tee times.tsv
