#!/usr/bin/env bash
# The BERT text encoder through the CLI on a small generated catalog: tokenizer -> MLM (a few
# steps) -> match fine-tuning -> embed with bert -> index -> decider -> eval, plus resume and the
# errors a user meets when a stage is missing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ws=$scratch/ws
"$doppel" -q synth --out "$scratch/data" --products 90 --seed 5
"$doppel" -q init "$ws"
"$doppel" -q ingest "$ws" "$scratch/data/listings.csv"
"$doppel" -q ingest "$ws" "$scratch/data/pairs.csv"
"$doppel" -q train text "$ws"

expect_fail embed "$ws" --encoder bert
check "bert before training names the missing stage" contains "$err" "--stage match"
expect_fail train text "$ws" --stage mlm
check "mlm before the tokenizer asks for it" contains "$err" "doppel train tokenizer"

printf 'extra corpus title one\nanother unlabelled title\n' > "$scratch/corpus.txt"
out=$("$doppel" -q train tokenizer "$ws" --vocab-size 400 --corpus "$scratch/corpus.txt")
check "tokenizer trained ($out)" contains "$out" "vocabulary of"
check "vocab.txt written" test -s "$ws/models/text/vocab.txt"

mlm() { "$doppel" -q --threads 2 train text "$ws" --stage mlm --layers 2 --hidden 32 --heads 2 \
          --max-length 32 --batch 16 "$@"; }
out=$(mlm --max-steps 20)
check "mlm ran 20 steps ($out)" contains "$out" "MLM: 20 steps"
out=$(mlm --max-steps 30 --resume)
check "mlm resumed to 30 steps ($out)" contains "$out" "MLM: 30 steps"
for f in config.json model.safetensors vocab.txt tokenizer_config.json mlm_log.json; do
  check "$f written" test -s "$ws/models/text/$f"
done
check "config.json has Hugging Face fields" grep -q '"num_hidden_layers": 2' "$ws/models/text/config.json"

out=$("$doppel" -q --threads 2 train text "$ws" --stage match --epochs 2 --dim 32 --channels 32 \
        --bottleneck 16)
check "match fine-tuning reports validation ($out)" contains "$out" "kept epoch"
check "encoder.json records the head's bottleneck" \
  grep -q '"bottleneck": 16' "$ws/models/text/encoder.json"
out=$("$doppel" -q embed "$ws")
check "embed picks the fine-tuned encoder, so every vector is new ($out)" contains "$out" "0 up to date"
check "catalog records the bert encoder" \
  test "$(python3 -c "import sqlite3; print(sqlite3.connect('$ws/catalog.db').execute(
      \"select value from meta where key='text_encoder'\").fetchone()[0])")" = "bert-L2-H32-cnn32"
"$doppel" -q index "$ws" --spec Flat > /dev/null
"$doppel" -q train decider "$ws" > /dev/null
check "the decider weighs the classical cosine beside the neural one" \
  grep -q classical_cosine "$ws/models/decider/decider.json"
"$doppel" -q eval "$ws" --split test --out "$scratch/reports" > "$scratch/eval.txt"
check "eval report written" test -s "$scratch/reports/metrics.json"
check "eval names the encoder of the text vectors" \
  grep -q '"text_encoder": "bert-L2-H32-cnn32"' "$scratch/reports/metrics.json"

# Cross-fitted fine-tuning: every train pair gets the cosine of a fold model that did not train on
# it, and the decider trains on those instead of the final encoder's in-sample cosines.
oof=$ws/models/text/out_of_fold_cosines.csv
"$doppel" -q --threads 2 train text "$ws" --stage match --epochs 1 --folds 2 > /dev/null
train_pairs=$(python3 -c "import sqlite3; print(sqlite3.connect('$ws/catalog.db').execute(
    \"select count(*) from labels where split='train'\").fetchone()[0])")
check "one out-of-fold cosine per train pair" test "$(($(wc -l < "$oof") - 2))" = "$train_pairs"
check "no fold model left behind" test ! -e "$ws/models/text.fold0"
"$doppel" -q embed "$ws" > /dev/null
out=$("$doppel" -q train decider "$ws")
check "decider trains on out-of-fold cosines ($out)" \
  contains "$out" "out-of-fold text cosines: $train_pairs train pairs"
cp "$oof" "$scratch/oof.csv"
sed -i '1s/.*/# encoder bert-L9-H9-cnn9/' "$oof"  # as if the vectors came from another model
"$doppel" -q train decider "$ws" > "$scratch/out.txt" 2> "$scratch/err.txt"
check "not used with another encoder's vectors" grep -q "not used" "$scratch/err.txt"
check "no out-of-fold line then" bash -c "! grep -q out-of-fold '$scratch/out.txt'"
cp "$scratch/oof.csv" "$oof"
sed -i '5s/.*/12,oops/' "$oof"
expect_fail train decider "$ws"
check "a malformed out-of-fold line is named ($err)" contains "$err" "out_of_fold_cosines.csv:5"
"$doppel" -q --threads 2 train text "$ws" --stage match --epochs 1 --folds 1 > /dev/null
check "fine-tuning without folds removes the stale file" test ! -e "$oof"
out=$("$doppel" -q bench text "$ws" --reps 1 --shapes L2-H64 L2-H64-F1-B0-C64)
check "bench text compares encoders ($out)" contains "$out" "random weights"
check "bench text names the trained head ($out)" contains "$out" "F2 B16 C32 (trained)"
check "bench text builds the head a shape asks for ($out)" \
  contains "$out" "F1 B0 C64 (random weights)"
expect_fail bench text "$ws" --shapes L2-H64-X3
check "a bad head setting is named ($err)" contains "$err" "-X3 is not a head setting"

# The neural stages run in the plugin beside the binary; without it they say what is missing.
DOPPEL_NEURAL_PLUGIN=$scratch/nowhere.so expect_fail embed "$ws" --encoder bert
check "a missing plugin is named with where it was looked for ($err)" \
  contains "$err" "libdoppel_neural.so.*could not be loaded"
check "... and the path tried ($err)" contains "$err" "nowhere.so: no such file"
DOPPEL_NEURAL_PLUGIN=$ws/catalog.db expect_fail train text "$ws" --stage match --epochs 1
check "a file that is no plugin is refused with the loader's reason ($err)" \
  contains "$err" "catalog.db: .*invalid ELF header"

# A damaged weights file is an error naming it, not a crash.
head -c 100 "$ws/models/text/model.safetensors" > "$scratch/broken" && mv "$scratch/broken" "$ws/models/text/model.safetensors"
expect_fail embed "$ws" --encoder bert
check "truncated weights named in the error" contains "$err" "model.safetensors"
finish
