#!/usr/bin/env bash
# Deciders trained with few or no labels, with and without the bootstrap rules (`train decider
# --bootstrap`), in every workspace of a scripts/bench-accuracy.sh folder (a finished run or a
# PREPARE_ONLY=1 one). For each count N of LABELS, each workspace is copied into OUT keeping N of
# its train pairs (drawn at random, seed N) and none of the others, its valid labels renamed to the
# split "valid-unseen"; the decider is trained on the N pairs alone (N > 0; 20% of them held out
# for the threshold) and on the N pairs plus the rules' (the threshold then chosen on the same
# 20%, or on rule-labelled pairs when N = 0). Each is judged on labels it never saw: the split
# SPLIT (default valid-unseen; SPLIT=test for the figures docs/results.md reports) and a dedup
# of the whole catalog set against every label (scripts/dedup-vs-labels.py). The source folder
# is not changed.
# Usage: scripts/bench-bootstrap.sh [path/to/doppel] [folder] [out]
# LABELS (default "0 50 100 200 400"). Writes OUT/bootstrap.md.
set -euo pipefail
doppel=${1:-build/tools/doppel/doppel}
folder=${2:-results/accuracy}
out=${3:-$folder-bootstrap}
split=${SPLIT:-valid-unseen}
here=$(dirname "$0")
mkdir -p "$out"
table="$out/bootstrap.md"
{
  echo "| dataset | train labels | rules | rule-labelled matches / non-matches | $split: precision | recall | F1 | AP | random pairs accepted | dedup against the labels |"
  echo "|---|---:|---|---|---:|---:|---:|---:|---:|---|"
} > "$table"
for source in "$folder"/*/ws; do
  slug=$(basename "$(dirname "$source")")
  for labels in ${LABELS:-0 50 100 200 400}; do
    for rules in no yes; do
      [ "$labels" = 0 ] && [ "$rules" = no ] && continue
      echo "== $slug, $labels train labels, rules: $rules" >&2
      dir="$out/$slug/$labels-$rules"
      ws="$dir/ws"
      rm -rf "$dir" && mkdir -p "$dir" && cp -r "$source" "$ws"
      rm -rf "$ws/models/decider"
      python3 - "$ws/catalog.db" "$labels" <<'PY'
import random, sqlite3, sys
db, keep = sqlite3.connect(sys.argv[1]), int(sys.argv[2])
train = db.execute("SELECT key_a, key_b FROM labels WHERE split = 'train' ORDER BY key_a, key_b").fetchall()
kept = set(random.Random(keep).sample(train, min(keep, len(train))))
db.executemany("DELETE FROM labels WHERE key_a = ? AND key_b = ?", [p for p in train if p not in kept])
db.execute("UPDATE labels SET split = 'valid-unseen' WHERE split = 'valid'")
db.commit()
PY
      flag=; [ "$rules" = yes ] && flag=--bootstrap
      if ! trained=$("$doppel" -q train decider "$ws" $flag 2>&1); then
        echo "| $slug | $labels | $rules | - | ${trained##*error: } | | | | | |" >> "$table"
        continue
      fi
      "$doppel" -q eval "$ws" --split "$split" --out "$dir/eval" > /dev/null
      "$doppel" -q dedup "$ws" --out "$dir/dedup" > /dev/null
      against=$(python3 "$here/dedup-vs-labels.py" "$ws" "$dir/dedup/pairs.csv")
      python3 - "$dir/eval/metrics.json" "$slug" "$labels" "$rules" "$trained" "$against" >> "$table" <<'PY'
import json, re, sys
m = json.load(open(sys.argv[1]))
t = m["at_threshold"]
counts = re.search(r"bootstrap labels: (\d+) matches .* (\d+) non-matches", sys.argv[5])
rule_labelled = f"{counts[1]} / {counts[2]}" if counts else "-"
print(f"| {sys.argv[2]} | {sys.argv[3]} | {sys.argv[4]} | {rule_labelled} | "
      f"{t['precision'] * 100:.1f} | {t['recall'] * 100:.1f} | **{t['f1'] * 100:.1f}** | "
      f"{m['average_precision'] * 100:.1f} | "
      f"{m['random_pairs']['accepted']} of {m['random_pairs']['pairs']} | {sys.argv[6]} |")
PY
    done
  done
done
cat "$table"
