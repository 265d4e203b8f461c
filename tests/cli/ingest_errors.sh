#!/usr/bin/env bash
# Bad input gets a clear error naming the file and line, and nothing already stored is lost.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ws=$scratch/ws

expect_fail ingest "$scratch/nows" /dev/null
check "missing workspace says how to create one" contains "$err" "doppel init"

"$doppel" -q init "$ws"
expect_fail init "$ws"
check "init refuses an existing workspace" contains "$err" "already"

printf 'id,title,price\nA1,Good listing,10\nA2,"unterminated,5\n' > "$scratch/bad_quote.csv"
printf 'id,title,price\nB1,First,1.5\nB2,Second,notanumber\nB3,Third,3\nB4,Fourth\n' > "$scratch/bad.csv"
"$doppel" -q ingest "$ws" "$scratch/bad.csv" > "$scratch/out.txt" 2> "$scratch/err.txt"
check "malformed price reported with file:line" grep -q "bad.csv:3" "$scratch/err.txt"
check "wrong field count reported with file:line" grep -q "bad.csv:5" "$scratch/err.txt"
check "good lines stored (2 new)" grep -q " 2 new listings" "$scratch/out.txt"

expect_fail ingest "$ws" "$scratch/bad_quote.csv" --strict
check "strict mode fails on the bad line" contains "$err" "bad_quote.csv"
count=$(sqlite3 "$ws/catalog.db" "select count(*) from listings where id like 'A%'")
check "strict mode wrote nothing (found $count)" test "$count" -eq 0
before=$(sqlite3 "$ws/catalog.db" "select count(*) from listings")
check "earlier listings kept ($before)" test "$before" -eq 2

# A split written in a pair row must be train, valid or test (a typo would hide the pair from the
# decider); one named with --split may be any name, and ingest says who reads it.
printf 'id_a,id_b,label,split\nB1,B3,1,tran\n' > "$scratch/typo_pairs.csv"
"$doppel" -q ingest "$ws" "$scratch/typo_pairs.csv" > "$scratch/out.txt" 2> "$scratch/err.txt"
check "a split typo in the row is a line error" grep -q "typo_pairs.csv:2: split must be" "$scratch/err.txt"
printf 'id_a,id_b,label\nB1,B3,1\n' > "$scratch/kept_apart.csv"
"$doppel" -q ingest "$ws" "$scratch/kept_apart.csv" --split holdout > "$scratch/out.txt" 2> "$scratch/err.txt"
check "pairs stored under a named split" \
  test "$(sqlite3 "$ws/catalog.db" "select count(*) from labels where split='holdout'")" -eq 1
check "... with a warning that the decider does not read it" grep -q "eval --split holdout" "$scratch/err.txt"

printf '{"id":"J1","title":"ok"}\n{"id":"J2","title":42}\nnot json\n' > "$scratch/bad.jsonl"
"$doppel" -q ingest "$ws" "$scratch/bad.jsonl" > "$scratch/out.txt" 2> "$scratch/err.txt"
check "jsonl wrong type reported" grep -q "bad.jsonl:2" "$scratch/err.txt"
check "jsonl bad json reported" grep -q "bad.jsonl:3" "$scratch/err.txt"

printf 'id,title\nL1,caf\xe9 cr\xe8me\n' > "$scratch/latin1.csv"
"$doppel" -q ingest "$ws" "$scratch/latin1.csv" > /dev/null 2> "$scratch/err.txt"
check "latin1 bytes rejected as invalid UTF-8" grep -q "latin1.csv:2" "$scratch/err.txt"
"$doppel" -q ingest "$ws" "$scratch/latin1.csv" --encoding latin1 > /dev/null
title=$(sqlite3 "$ws/catalog.db" "select title from listings where id='L1'")
check "--encoding latin1 converts ($title)" test "$title" = "café crème"

expect_fail ingest "$ws" "$scratch/bad.csv" --map "title"
check "bad --map entry named" contains "$err" "title"
expect_fail train decider "$ws"
check "decider without labels explains" contains "$err" "labelled pairs"
check "decider without labels offers the rules" contains "$err" "--bootstrap"
expect_fail dedup "$ws" --out "$scratch/r"
check "dedup without models explains" contains "$err" "doppel train text"
finish
