#!/usr/bin/env bash
# The whole path on a small generated catalog: synth -> init -> ingest -> train -> embed ->
# index -> train decider -> dedup -> eval. Checks the outputs exist and make sense.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ws=$scratch/ws
check "doppel --version says the version" grep -Eq "^doppel [0-9]+\.[0-9]+\.[0-9]+$" <<< "$("$doppel" --version)"
"$doppel" -q synth --out "$scratch/data" --products 150 --seed 3
"$doppel" -q init "$ws"
"$doppel" -q ingest "$ws" "$scratch/data/listings.csv"
"$doppel" -q ingest "$ws" "$scratch/data/pairs.csv"
"$doppel" -q train text "$ws"
"$doppel" -q embed "$ws"
"$doppel" -q index "$ws" --spec HNSW32
"$doppel" -q train decider "$ws" > "$scratch/train.txt"
"$doppel" -q dedup "$ws" --out "$scratch/results" > "$scratch/dedup.txt"
"$doppel" -q eval "$ws" --split test --out "$scratch/reports" > "$scratch/eval.txt"
cat "$scratch/dedup.txt" "$scratch/eval.txt"

listings=$(($(wc -l < "$scratch/data/listings.csv") - 1))
check "with classical text vectors the decider has no second, equal cosine" \
  bash -c "! grep -q classical_cosine '$ws/models/decider/decider.json'"
check "eval names the encoder of the text vectors" \
  grep -q '"text_encoder": "tfidf-pca128"' "$scratch/reports/metrics.json"
check "clusters.csv has one row per listing" \
  test "$(($(wc -l < "$scratch/results/clusters.csv") - 1))" -eq "$listings"
check "pairs.csv has a header and pairs" test "$(wc -l < "$scratch/results/pairs.csv")" -gt 10
check "pairs.csv header" test "$(head -1 "$scratch/results/pairs.csv")" = "id_a,id_b,confidence"
# Only neural models need libtorch, only image files OpenCV's codecs: the binary links neither,
# and the classical path never loads the plugins that do.
check "the doppel binary does not link libtorch" bash -c "! ldd '$doppel' | grep -q libtorch"
check "the doppel binary does not link OpenCV's codecs" \
  bash -c "! ldd '$doppel' | grep -q imgcodecs"
DOPPEL_NEURAL_PLUGIN=$scratch/nowhere.so DOPPEL_CODECS_PLUGIN=$scratch/nowhere.so \
  "$doppel" -q dedup "$ws" --out "$scratch/results2" > /dev/null
check "the classical dedup runs without the plugins" \
  cmp -s "$scratch/results/pairs.csv" "$scratch/results2/pairs.csv"
for f in metrics.json report.md pr_curve.svg scores.svg; do
  check "report file $f written and non-empty" test -s "$scratch/reports/$f"
done
f1=$(python3 -c "import json;print(json.load(open('$scratch/reports/metrics.json'))['at_threshold']['f1'])")
check "test F1 $f1 > 0.8 on the synthetic catalog" py_check "$f1 > 0.8"
check "pr curve is an svg" grep -q "</svg>" "$scratch/reports/pr_curve.svg"

# Re-ingesting the same file upserts: no new listings.
out=$("$doppel" -q ingest "$ws" "$scratch/data/listings.csv")
check "re-ingest upserts ($out)" contains "$out" " 0 new listings"

# A stale index is refused rather than used: add a listing, re-embed, dedup without re-indexing.
# Re-embedding encodes the new listing alone; with --all it encodes every listing, and only the
# new vector is written, as a listing's classical vector does not depend on the listings encoded
# with it.
printf 'id,title\nNEW1,Brand new gadget 3000\n' > "$scratch/one.csv"
"$doppel" -q ingest "$ws" "$scratch/one.csv"
out=$("$doppel" -q embed "$ws")
check "embed encodes the new listing alone ($out)" contains "$out" "text: 1 encoded, $listings up to date"
"$doppel" -q embed "$ws" --all > /dev/null
expect_fail dedup "$ws" --out "$scratch/results2"
check "stale index refused with advice" contains "$err" "--update"
out=$("$doppel" -q index "$ws" --update)
check "update applies the new vector without rebuilding ($out)" contains "$out" " 1 written"
check "update removed nothing" contains "$out" " 0 removed"
out=$("$doppel" -q index "$ws" --search-params efSearch=64)
check "search parameters change without a rebuild ($out)" contains "$out" "efSearch=64"
check "and are kept in the saved index" contains "$("$doppel" -q index "$ws" --check)" "efSearch=64"
expect_fail index "$ws" --search-params nprobe=8
check "a parameter HNSW lacks is refused, naming the index ($err)" contains "$err" "text.index"
check "the refused change left the index as it was" \
  contains "$("$doppel" -q index "$ws" --check)" "efSearch=64"
"$doppel" -q index "$ws" --check > /dev/null
"$doppel" -q dedup "$ws" --out "$scratch/results2" > /dev/null
check "dedup runs on the updated index" test -s "$scratch/results2/clusters.csv"

# doppel match: the API's match for listings in a file. A catalog listing's title, upper-cased,
# finds that listing; a malformed line is named.
python3 - "$scratch/data/listings.csv" > "$scratch/queries.jsonl" <<'PY'
import csv, json, sys
row = next(csv.DictReader(open(sys.argv[1], newline="")))
print(json.dumps({"id": "q1", "title": row["title"].upper()}))
print(json.dumps({"title": "no such product at all"}))
PY
wanted=$(sed -n 2p "$scratch/data/listings.csv" | cut -d, -f1)
"$doppel" -q match "$ws" "$scratch/queries.jsonl" --k 5 > "$scratch/matches.jsonl"
check "match answers one JSON line per listing" test "$(wc -l < "$scratch/matches.jsonl")" -eq 2
check "the upper-cased title finds $wanted, as the API would say it" \
  python3 - "$wanted" "$scratch/matches.jsonl" <<'PY'
import json, sys
first, second = (json.loads(line) for line in open(sys.argv[2]))
assert first["query"]["id"] == "q1" and "threshold" in first, first
assert sys.argv[1] in [c["id"] for c in first["candidates"] if c["match"]], first
assert all(c["sources"] for c in first["candidates"]), first
assert len(first["candidates"]) >= 1 and len(second["candidates"]) >= 1
PY
out=$(sed -n 1p "$scratch/queries.jsonl" | "$doppel" -q match "$ws" - --k 5)
check "match reads standard input ('-')" test "$(head -1 "$scratch/matches.jsonl")" = "$out"
printf '{"title": "fine"}\n{"title": "x", "colour": "red"}\n' > "$scratch/bad.jsonl"
expect_fail match "$ws" "$scratch/bad.jsonl"
check "a malformed query names its file and line ($err)" contains "$err" "bad.jsonl: line 2: unknown field 'colour'"

# The MLP decider, chosen by --classifier: stored as such, used by eval and dedup, and timed
# beside the XGBoost one.
cp -r "$ws/models/decider" "$scratch/xgboost_decider"
out=$("$doppel" -q train decider "$ws" --classifier mlp)
check "train decider says which classifier ($out)" contains "$out" "classifier: mlp"
check "decider.json records the MLP" \
  py_check "json.load(open('$ws/models/decider/decider.json'))['options']['classifier'] == 'mlp'"
check "the MLP's weights replace the booster" \
  test -s "$ws/models/decider/model_0.safetensors" -a ! -e "$ws/models/decider/model_0.ubj"
"$doppel" -q eval "$ws" --split test --out "$scratch/reports_mlp" > /dev/null
f1=$(python3 -c "import json;print(json.load(open('$scratch/reports_mlp/metrics.json'))['at_threshold']['f1'])")
check "MLP test F1 $f1 > 0.8 on the synthetic catalog" py_check "$f1 > 0.8"
# The two deciders side by side on the same test pairs.
out=$("$doppel" eval-compare --baseline "$scratch/reports" --candidate "$scratch/reports_mlp" \
      --resamples 500 --json "$scratch/compare.json" 2> "$scratch/compare_err.txt")
echo "$out"
xgb_f1=$(python3 -c "import json;print(round(json.load(open('$scratch/reports/metrics.json'))['at_threshold']['f1'], 4))")
check "eval-compare reads back the F1 eval wrote ($xgb_f1)" \
  grep -Eq "^baseline +F1 $(printf '%.4f' "$xgb_f1"), 1 run$" <<< "$out"
check "eval-compare gives an interval for the difference" \
  grep -Eq "^candidate - baseline: [-+]0\.[0-9]{4}; 95% interval over 500 paired draws" <<< "$out"
check "scores.csv reproduces eval's decisions (no warning)" test ! -s "$scratch/compare_err.txt"
check "eval-compare --json holds the figures it printed" py_check "
[abs(c['baseline']['f1'] - $xgb_f1) < 1e-4 and c['resamples'] == 500 and
 c['interval'][0] <= c['difference'] <= c['interval'][1] and len(c['candidate']['runs']) == 1
 for c in [json.load(open('$scratch/compare.json'))]][0]"
out=$("$doppel" eval-compare --baseline "$scratch/reports" --candidate "$scratch/reports" \
      --resamples 100)
check "a run compared with itself never differs" \
  grep -Fq "+0.0000; 95% interval over 100 paired draws of the pairs [+0.0000, +0.0000]" <<< "$out"
"$doppel" -q eval "$ws" --split valid --out "$scratch/reports_valid" > /dev/null
expect_fail eval-compare --baseline "$scratch/reports" --candidate "$scratch/reports_valid"
check "eval-compare refuses runs on other pairs ($err)" \
  contains "$err" "reports_valid/scores.csv: "
"$doppel" -q dedup "$ws" --out "$scratch/results_mlp" > /dev/null
check "dedup runs with the MLP decider" test -s "$scratch/results_mlp/pairs.csv"
out=$("$doppel" -q bench decider "$ws" --also "$scratch/xgboost_decider" --reps 1)
check "bench decider times the MLP" contains "$out" "features + MLP decider"
check "bench decider times the XGBoost decider" contains "$out" "features + XGBoost decider"

# A catalog without labels: the rules' decider, stored as such, runs a dedup.
bare=$scratch/bare
"$doppel" -q init "$bare"
"$doppel" -q ingest "$bare" "$scratch/data/listings.csv"
"$doppel" -q train text "$bare"
"$doppel" -q embed "$bare"
"$doppel" -q index "$bare" --spec Flat
out=$("$doppel" -q train decider "$bare" --bootstrap)
check "train decider --bootstrap says what the rules labelled ($out)" \
  grep -Eq "^bootstrap labels: [1-9][0-9]* matches .* [1-9][0-9]* non-matches" <<< "$out"
check "decider.json records the bootstrap" \
  py_check "json.load(open('$bare/models/decider/decider.json'))['options']['bootstrap']"
"$doppel" -q dedup "$bare" --out "$scratch/results_bare" > /dev/null
check "dedup runs with the rules' decider" test -s "$scratch/results_bare/pairs.csv"
finish
