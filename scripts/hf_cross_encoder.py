#!/usr/bin/env python3
"""A diagnostic, not part of doppel: would a cross-encoder over doppel's own MLM-pretrained BERT give
the decider a signal its pair features and vector cosines lack? It reads both listings of a pair at
once ("[CLS] a [SEP] b [SEP]", as Ditto does with a pre-trained RoBERTa), which a vector index
cannot serve, so it would only ever score candidates. Run on a lent GPU
(docs/results.md, "A cross-encoder over doppel's BERT, measured on a lent GPU").

  hf_cross_encoder.py pairs CATALOG_DB OUT_TSV
      (Python standard library only) the labelled pairs of a workspace, one per line: key_a,
      key_b, split, label and both listings' model_text() (hf_mlm_pretrain.py), tab-separated.
  hf_cross_encoder.py train MODEL_DIR OUT_DIR PAIRS_TSV... [--lr 5e-4 --batch 128 --epochs 10
      --folds 3 --max-length 64 --seed 42]
      (torch, transformers, scikit-learn) per PAIRS_TSV: fine-tunes BertForSequenceClassification
      from MODEL_DIR (a doppel model folder) on the train pairs, both orders of each pair, and
      keeps the epoch with the best valid average precision; scores valid and test with it
      (mean over both orders, so the score is symmetric) and the train pairs out-of-fold with
      --folds models trained as long. Writes OUT_DIR/<name>.scores.csv (key_a,key_b,split,label,
      score) and OUT_DIR/<name>.summary.json (valid AP and best F1 per epoch, out-of-fold train AP).
      Test pairs are scored but no test figure is computed.
"""
import argparse
import csv
import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_mlm_pretrain import model_text  # noqa: E402


def pairs(catalog_db, out_tsv):
    con = sqlite3.connect(catalog_db)
    text = {key: model_text(title, brand or "", model or "").replace("\t", " ").replace("\n", " ")
            for key, title, brand, model in
            con.execute("SELECT key, title, brand, model_number FROM listings")}
    rows = con.execute("SELECT key_a, key_b, split, is_match FROM labels ORDER BY key_a, key_b")
    with open(out_tsv, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, delimiter="\t")
        writer.writerow(["key_a", "key_b", "split", "label", "text_a", "text_b"])
        count = 0
        for a, b, split, label in rows:
            writer.writerow([a, b, split, label, text[a], text[b]])
            count += 1
    print(f"{out_tsv}: {count} pairs")


def best_f1(labels, scores):
    ranked = sorted(zip(scores, labels), reverse=True)
    positives, hits, best = sum(labels), 0, 0.0
    for rank, (_, label) in enumerate(ranked, 1):
        hits += label
        if hits:
            best = max(best, 2 * hits / (rank + positives))
    return best


def train(args):
    import torch
    from sklearn.metrics import average_precision_score
    from transformers import BertForSequenceClassification, BertTokenizer

    device = "cuda" if torch.cuda.is_available() else "cpu"
    tokenizer = BertTokenizer.from_pretrained(args.model_dir)

    def encode(first, second):
        batch = tokenizer(first, second, truncation=True, max_length=args.max_length,
                          padding="max_length", return_tensors="pt")
        return [batch[k].to(device) for k in ("input_ids", "token_type_ids", "attention_mask")]

    def rows_of(encoded, index):
        return [t[index] for t in encoded]

    def both_orders(ab, ba, index):
        """The pairs at index as (a, b) and as (b, a): trained on and averaged over both."""
        return rows_of(ab, index), rows_of(ba, index)

    def predict(model, both_orders):
        model.eval()
        means = []
        with torch.no_grad(), torch.autocast(device_type=device, dtype=torch.bfloat16,
                                             enabled=device == "cuda"):
            for ids, types, mask in both_orders:
                parts = []
                for i in range(0, ids.shape[0], 1024):
                    logits = model(input_ids=ids[i:i + 1024], token_type_ids=types[i:i + 1024],
                                   attention_mask=mask[i:i + 1024]).logits.float()
                    parts.append(torch.softmax(logits, -1)[:, 1])
                means.append(torch.cat(parts))
        return ((means[0] + means[1]) / 2).cpu().tolist()

    def fit(index, ab, ba, labels, epochs, seed, valid=None):
        torch.manual_seed(seed)
        model = BertForSequenceClassification.from_pretrained(args.model_dir, num_labels=2)
        model.to(device)
        ids, types, mask = (torch.cat([x, y]) for x, y in zip(*both_orders(ab, ba, index)))
        targets = torch.cat([labels[index], labels[index]])
        n = ids.shape[0]
        steps = epochs * ((n + args.batch - 1) // args.batch)
        warmup = max(1, steps // 10)
        optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup))))
        history, best = [], (-1.0, None, 0)
        for epoch in range(1, epochs + 1):
            model.train()
            order = torch.randperm(n, device=device)
            for i in range(0, n, args.batch):
                r = order[i:i + args.batch]
                with torch.autocast(device_type=device, dtype=torch.bfloat16,
                                    enabled=device == "cuda"):
                    loss = model(input_ids=ids[r], token_type_ids=types[r], attention_mask=mask[r],
                                 labels=targets[r]).loss
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
            if valid is not None:
                scores = predict(model, valid[0])
                ap = average_precision_score(valid[1], scores)
                history.append({"epoch": epoch, "valid_ap": round(ap, 4),
                                "valid_best_f1": round(best_f1(valid[1], scores), 4)})
                if ap > best[0]:
                    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                    best = (ap, state, epoch)
        if valid is not None:
            model.load_state_dict(best[1])
        return model, history, best[2]

    for path in args.pairs_tsv:
        started = time.time()
        name = os.path.basename(path).removesuffix(".tsv")
        with open(path, encoding="utf-8") as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        first, second = [r["text_a"] for r in rows], [r["text_b"] for r in rows]
        ab, ba = encode(first, second), encode(second, first)
        labels = torch.tensor([int(r["label"]) for r in rows], device=device)
        train_rows = [i for i, r in enumerate(rows) if r["split"] == "train"]
        valid_rows = [i for i, r in enumerate(rows) if r["split"] == "valid"]
        other_rows = [i for i, r in enumerate(rows) if r["split"] != "train"]
        as_index = lambda rows_: torch.tensor(rows_, device=device)  # noqa: E731
        valid = (both_orders(ab, ba, as_index(valid_rows)),
                 [int(rows[i]["label"]) for i in valid_rows])
        model, history, epochs = fit(as_index(train_rows), ab, ba, labels, args.epochs, args.seed,
                                     valid)
        scores = [0.0] * len(rows)
        for i, s in zip(other_rows, predict(model, both_orders(ab, ba, as_index(other_rows)))):
            scores[i] = s
        # Out-of-fold train scores, folds stratified by label.
        generator = torch.Generator().manual_seed(args.seed)
        fold_of = {}
        for label in (0, 1):
            members = [i for i in train_rows if int(rows[i]["label"]) == label]
            for k, j in enumerate(torch.randperm(len(members), generator=generator).tolist()):
                fold_of[members[j]] = k % args.folds
        for k in range(args.folds):
            rest = [i for i in train_rows if fold_of[i] != k]
            out = [i for i in train_rows if fold_of[i] == k]
            fold_model, _, _ = fit(as_index(rest), ab, ba, labels, epochs, args.seed + 1 + k)
            for i, s in zip(out, predict(fold_model, both_orders(ab, ba, as_index(out)))):
                scores[i] = s
        with open(f"{args.out_dir}/{name}.scores.csv", "w") as f:
            f.write("key_a,key_b,split,label,score\n")
            f.writelines(f"{r['key_a']},{r['key_b']},{r['split']},{r['label']},{s:.6f}\n"
                         for r, s in zip(rows, scores))
        summary = {"dataset": name, "lr": args.lr, "batch": args.batch, "best_epoch": epochs,
                   "history": history,
                   "oof_train_ap": round(average_precision_score(
                       [int(rows[i]["label"]) for i in train_rows],
                       [scores[i] for i in train_rows]), 4),
                   "seconds": round(time.time() - started, 1)}
        with open(f"{args.out_dir}/{name}.summary.json", "w") as f:
            json.dump(summary, f, indent=1)
        print(json.dumps(summary), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("pairs")
    listing.add_argument("catalog_db")
    listing.add_argument("out_tsv")
    training = commands.add_parser("train")
    training.add_argument("model_dir")
    training.add_argument("out_dir")
    training.add_argument("pairs_tsv", nargs="+")
    training.add_argument("--lr", type=float, default=5e-4)
    training.add_argument("--batch", type=int, default=128)
    training.add_argument("--epochs", type=int, default=10)
    training.add_argument("--folds", type=int, default=3)
    training.add_argument("--max-length", type=int, default=64)
    training.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    if args.command == "pairs":
        pairs(args.catalog_db, args.out_tsv)
    else:
        train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
