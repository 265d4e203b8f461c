#!/usr/bin/env python3
"""How a dedup's accepted pairs meet the workspace's labelled pairs.

Usage: scripts/dedup-vs-labels.py WORKSPACE PAIRS_CSV
Prints one line: the pairs `doppel dedup` accepted (its pairs.csv), how many of the labelled
matches (every split) are among them, how many labelled non-matches it accepted, and how many
accepted pairs no label speaks of. A benchmark labels only pairs its blocking chose, so the last
count is where a decider that only knows blocked pairs shows itself (docs/decisions.md, "Random
catalog pairs as non-matches").
"""
import csv
import sqlite3
import sys

workspace, pairs_csv = sys.argv[1], sys.argv[2]
db = sqlite3.connect(f"file:{workspace}/catalog.db?mode=ro", uri=True)
id_of = dict(db.execute("SELECT key, id FROM listings"))
label = {frozenset((id_of[a], id_of[b])): m
         for a, b, m in db.execute("SELECT key_a, key_b, is_match FROM labels")}
with open(pairs_csv, newline="") as f:
    accepted = [frozenset((row["id_a"], row["id_b"])) for row in csv.DictReader(f)]
matches = sum(1 for m in label.values() if m)
found = sum(1 for p in accepted if label.get(p) == 1)
wrong = sum(1 for p in accepted if label.get(p) == 0)
print(f"accepted {len(accepted)}: labelled matches {found} of {matches}, "
      f"labelled non-matches {wrong}, unlabelled {len(accepted) - found - wrong}")
