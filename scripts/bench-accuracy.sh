#!/usr/bin/env bash
# Decider accuracy on the public entity-matching benchmarks in ../shared/data, one workspace
# each: train on train, choose the threshold on valid, report test once.
# Usage: scripts/bench-accuracy.sh [path/to/doppel] [out-folder]
# DECIDER_ARGS passes options to `doppel train decider` (e.g. "--folds 5" for the cross-fitted
# alternative; then the valid columns are in-sample and say nothing).
# TEXT_MODEL=DIR switches the text vectors to the BERT encoder: DIR is a pretrained text model
# folder (from `doppel train text --stage mlm`; docs/results.md, "BERT text encoder", has the
# pretraining commands), copied into
# each workspace and fine-tuned there on the train pairs (`--stage match`, cross-fitted with 3
# folds unless MATCH_ARGS, which passes options, says otherwise) before embedding.
# PREPARE_ONLY=1 stops each dataset after its index: the workspaces for
# scripts/bench-decider-valid.sh, which compares decider variants on valid only.
# DATASETS='Abt-Buy|WDC computers (small)' runs only the named datasets (default: all).
# Each WDC category runs twice: trained on its own small train split, and trained on the small
# train splits of all four categories pooled ("(small, pooled train)"; valid and test are the
# category's own either way; docs/decisions.md, "Pooled WDC train").
# DEV=1 runs the development benchmarks instead: WDC cameras, watches and shoes (small), whose
# test splits are gold standards built like WDC computers' but are not among those reported.
# They check that a choice made on valid also holds on a harder test that is not reported
# (docs/decisions.md); DATASETS filters them too.
# "random pairs accepted": of 3,000 random pairs of the dataset's listings (nearly all two
# products; `doppel eval`), how many the decider calls matches.
# Writes OUT/accuracy.md (a table) and OUT/<dataset>/{metrics.json,report.md,...}.
set -euo pipefail
doppel=${1:-build/tools/doppel/doppel}
out=${2:-results/accuracy}
data=${DOPPEL_DATA:-../shared/data}
[ -d "$data" ] || { echo "bench-accuracy: no benchmark data at $data" >&2; exit 1; }

# name | folder | train files (space-separated, relative to the folder) | valid file | test file
datasets=(
  "Abt-Buy|ditto-er_magellan/Textual/Abt-Buy|train.txt|valid.txt|test.txt"
  "Amazon-Google|ditto-er_magellan/Structured/Amazon-Google|train.txt|valid.txt|test.txt"
  "Walmart-Amazon|ditto-er_magellan/Structured/Walmart-Amazon|train.txt|valid.txt|test.txt"
  "Walmart-Amazon (dirty)|ditto-er_magellan/Dirty/Walmart-Amazon|train.txt|valid.txt|test.txt"
)
wdc_categories=(computers)
[ -z "${DEV:-}" ] || { datasets=(); wdc_categories=(cameras watches shoes); }
pooled_train="../computers/train.txt.small ../cameras/train.txt.small ../shoes/train.txt.small ../watches/train.txt.small"
for category in "${wdc_categories[@]}"; do
  datasets+=(
    "WDC $category (small)|ditto-wdc_lspc_v2/$category|train.txt.small|valid.txt.small|test.txt"
    "WDC $category (small, pooled train)|ditto-wdc_lspc_v2/$category|$pooled_train|valid.txt.small|test.txt"
  )
done

rm -rf "$out"
mkdir -p "$out"
table="$out/accuracy.md"
{
  echo "| dataset | test pairs | precision | recall | F1 (positive) | macro F1 | threshold (from valid) | recall@10 | valid F1 | valid AP | random pairs accepted |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} > "$table"

for entry in "${datasets[@]}"; do
  IFS='|' read -r name folder train valid test <<< "$entry"
  if [ -n "${DATASETS:-}" ] && [[ "|$DATASETS|" != *"|$name|"* ]]; then continue; fi
  slug=$(echo "$name" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9\n' '-' | sed 's/-*$//')
  ws="$out/$slug/ws"
  echo "== $name" >&2
  "$doppel" -q init "$ws" > /dev/null
  for file in $train; do
    "$doppel" -q ingest "$ws" "$data/$folder/$file" --format ditto --split train > /dev/null
  done
  "$doppel" -q ingest "$ws" "$data/$folder/$valid" --format ditto --split valid > /dev/null
  "$doppel" -q ingest "$ws" "$data/$folder/$test" --format ditto --split test > /dev/null
  "$doppel" -q train text "$ws"
  if [ -n "${TEXT_MODEL:-}" ]; then
    mkdir -p "$ws/models/text"
    cp "$TEXT_MODEL"/{config.json,model.safetensors,vocab.txt,tokenizer_config.json} "$ws/models/text/"
    # shellcheck disable=SC2086  # MATCH_ARGS is a list of options
    "$doppel" -q train text "$ws" --stage match ${MATCH_ARGS:-} | tee "$out/$slug/match.txt" >&2
  fi
  "$doppel" -q embed "$ws" > /dev/null
  "$doppel" -q index "$ws" --spec Flat > /dev/null
  [ -z "${PREPARE_ONLY:-}" ] || continue
  # shellcheck disable=SC2086  # DECIDER_ARGS is a list of options
  "$doppel" -q train decider "$ws" ${DECIDER_ARGS:-} > /dev/null
  # valid is what the threshold was chosen on (optimistic); it is the figure to compare
  # variants by while developing. test is reported once.
  "$doppel" -q eval "$ws" --split valid --out "$out/$slug/valid" > /dev/null
  "$doppel" -q eval "$ws" --split test --out "$out/$slug" > /dev/null
  python3 - "$out/$slug/metrics.json" "$out/$slug/valid/metrics.json" "$name" >> "$table" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); t = m["at_threshold"]
v = json.load(open(sys.argv[2]))
r10 = (m["candidate_recall_at_k"].get("10") or {}).get("text")
print(f"| {sys.argv[3]} | {m['pairs']} | {t['precision']*100:.1f} | {t['recall']*100:.1f} | "
      f"**{t['f1']*100:.1f}** | {t['macro_f1']*100:.1f} | {t['threshold']:.3f} | "
      f"{'' if r10 is None else f'{r10:.3f}'} | {v['at_threshold']['f1']*100:.1f} | "
      f"{v['average_precision']*100:.1f} | {m['random_pairs']['accepted']} of "
      f"{m['random_pairs']['pairs']} |")
PY
done
cat "$table"
