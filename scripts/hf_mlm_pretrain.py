#!/usr/bin/env python3
"""A diagnostic, not part of doppel: doppel's MLM pretraining recipe in PyTorch + transformers, to
run on a GPU for many more steps than the 2-core CPU allows, and so measure what far longer
pretraining would give the text encoder. The folder it writes loads in doppel through the Hugging
Face interop (config.json + model.safetensors + doppel's vocab.txt); fine-tuning and the decider
then run in doppel as usual (docs/results.md, "Far longer MLM pretraining, measured on a lent GPU").

  hf_mlm_pretrain.py corpus CATALOG_DB OUT_TXT
      (Python standard library only) writes the distinct texts doppel's `train text --stage mlm`
      trains on for a workspace whose catalog.db holds every corpus listing (doppel ingest of each
      corpus file): each listing's model_text() (title, plus brand and model number when the
      normalised title does not contain them) and its description, each distinct text once (one
      per line, so a text holding a line break is left out).
  hf_mlm_pretrain.py train CORPUS_TXT VOCAB_DIR OUT_DIR --steps N [--layers 4 --hidden 128
      --heads 2 --batch 64 --lr 1e-3 --max-length 32 --minutes M --seed 42]
      (torch, transformers) trains a fresh BertForMaskedLM as doppel's mlm_trainer does: 15% of the
      pieces picked, 80% [MASK] / 10% random piece / 10% kept, loss on the picked ones; AdamW
      (weight decay 0.01, eps 1e-6), 6% linear warm-up then linear decay to zero, gradient
      norm clipped at 1. bf16 autocast on a GPU. Stops early at --minutes (the schedule stays that
      of --steps; the log says where it stopped). Writes OUT_DIR/config.json, model.safetensors,
      vocab.txt, tokenizer_config.json and mlm_log.json (loss every 500 steps).
"""
import argparse
import json
import shutil
import sqlite3
import sys
import time
import unicodedata


def normalize_text(text):
    """doppel's normalize_text: NFKC, case folding, accents stripped, controls removed, spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    text = unicodedata.normalize("NFC", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cc" or c.isspace())
    return " ".join(text.split())


def model_text(title, brand, model_number):
    text, normalized_title = title, normalize_text(title)
    for extra in (brand, model_number):
        normalized = normalize_text(extra) if extra else ""
        if normalized and normalized not in normalized_title:
            text += " " + extra
    return text


def corpus(catalog_db, out_txt):
    rows = sqlite3.connect(catalog_db).execute(
        "SELECT title, description, brand, model_number FROM listings ORDER BY key")
    texts = []
    for title, description, brand, model_number in rows:
        texts.append(model_text(title, brand, model_number))
        if description:
            texts.append(description)
    unique = list(dict.fromkeys(t for t in texts if "\n" not in t))
    with open(out_txt, "w", encoding="utf-8") as out:
        out.writelines(t + "\n" for t in unique)
    print(f"{out_txt}: {len(unique)} distinct texts")


def train(args):
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertTokenizer

    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tokenizer = BertTokenizer.from_pretrained(args.vocab_dir)
    with open(args.corpus_txt, encoding="utf-8") as f:
        texts = [line.rstrip("\n") for line in f if line.strip()]
    batch = tokenizer(texts, truncation=True, max_length=args.max_length, padding="max_length",
                      return_tensors="pt")
    ids = batch["input_ids"].to(device)
    real = batch["attention_mask"].to(device).bool()
    special = torch.tensor(sorted(tokenizer.all_special_ids), device=device)
    maskable = real & ~torch.isin(ids, special)
    first_normal = max(tokenizer.all_special_ids) + 1  # random pieces come from the rest
    print(f"{len(texts)} texts, {int(real.sum())} tokens, device {device}", flush=True)

    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=args.hidden,
                        num_hidden_layers=args.layers, num_attention_heads=args.heads,
                        intermediate_size=4 * args.hidden,
                        max_position_embeddings=max(64, args.max_length), hidden_act="gelu")
    model = BertForMaskedLM(config).to(device)
    model.train()
    decay = [p for p in model.parameters() if p.dim() > 1]  # biases and LayerNorms: none
    no_decay = [p for p in model.parameters() if p.dim() <= 1]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=args.lr, betas=(0.9, 0.999), eps=1e-6,
                                  fused=device == "cuda")
    warmup = max(1, int(0.06 * args.steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (args.steps - s) / (args.steps - warmup))))

    generator = torch.Generator(device=device).manual_seed(args.seed)
    order = torch.randperm(len(texts), device=device, generator=generator)
    cursor, log, running, started = 0, [], [], time.time()
    step = 0
    for step in range(1, args.steps + 1):
        if cursor + args.batch > len(texts):
            order = torch.randperm(len(texts), device=device, generator=generator)
            cursor = 0
        rows = order[cursor:cursor + args.batch]
        cursor += args.batch
        input_ids, can_mask = ids[rows].clone(), maskable[rows]
        picked = (torch.rand(input_ids.shape, device=device, generator=generator) < 0.15) & can_mask
        labels = torch.where(picked, input_ids, torch.full_like(input_ids, -100))
        roll = torch.rand(input_ids.shape, device=device, generator=generator)
        input_ids[picked & (roll < 0.8)] = tokenizer.mask_token_id
        swap = picked & (roll >= 0.8) & (roll < 0.9)
        input_ids[swap] = torch.randint(first_normal, tokenizer.vocab_size, (int(swap.sum()),),
                                        device=device, generator=generator)
        with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=device == "cuda"):
            loss = model(input_ids=input_ids, attention_mask=real[rows].long(), labels=labels).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        running.append(loss.detach())
        if step % 500 == 0 or step == args.steps:
            mean = float(torch.stack(running).mean())
            running = []
            elapsed = time.time() - started
            log.append({"step": step, "loss": round(mean, 4), "seconds": round(elapsed, 1)})
            print(f"step {step}/{args.steps} loss {mean:.3f} {step / elapsed:.0f} steps/s", flush=True)
            if args.minutes and elapsed > 60 * args.minutes:
                print(f"stopping at step {step}: --minutes {args.minutes} reached", flush=True)
                break

    model.save_pretrained(args.out_dir)
    for name in ("vocab.txt", "tokenizer_config.json"):
        shutil.copy(f"{args.vocab_dir}/{name}", f"{args.out_dir}/{name}")
    with open(f"{args.out_dir}/mlm_log.json", "w") as f:
        json.dump({"steps_planned": args.steps, "steps_run": step, "batch": args.batch,
                   "lr": args.lr, "device": torch.cuda.get_device_name() if device == "cuda"
                   else "cpu", "torch": torch.__version__, "loss_curve": log}, f, indent=1)
    print(f"wrote {args.out_dir}", flush=True)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "corpus":
        corpus(sys.argv[2], sys.argv[3])
        return 0
    if len(sys.argv) < 2 or sys.argv[1] != "train":
        print(__doc__)
        return 2
    parser = argparse.ArgumentParser(prog="hf_mlm_pretrain.py train")
    parser.add_argument("corpus_txt")
    parser.add_argument("vocab_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--heads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--max-length", type=int, default=32)
    parser.add_argument("--minutes", type=float, default=0)
    parser.add_argument("--seed", type=int, default=42)
    train(parser.parse_args(sys.argv[2:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
