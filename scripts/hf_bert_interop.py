#!/usr/bin/env python3
"""Cross-checks doppel's BERT text model folders against Hugging Face transformers, both ways
(needs torch, transformers and safetensors: run it where they are installed; doppel itself does
not need Python). The outputs become test fixtures that doppel's C++ tests compare against
(src/text/neural_text_test.cc, HuggingFaceInterop.*).

  hf_bert_interop.py make VOCAB_DIR OUT_DIR
      transformers writes a tiny random BertForMaskedLM (for the vocabulary in VOCAB_DIR, which
      is not copied) to OUT_DIR with save_pretrained, and OUT_DIR/reference.safetensors: the tokenizer's ids for
      TITLES (padded), their attention mask and every hidden state.
  hf_bert_interop.py check DOPPEL_DIR OUT_FILE
      loads a folder doppel wrote with BertForMaskedLM/BertTokenizer.from_pretrained (fails on any
      missing or unexpected weight), and writes the same reference tensors to OUT_FILE.
"""
import sys

import torch
from safetensors.torch import save_file
from transformers import BertConfig, BertForMaskedLM, BertTokenizer

TITLES = [
    "Apple iPhone 13 128GB Midnight",
    "IPHONE13 128 GB siyah",
    "Sony DSC-W120 7.2MP digital camera (silver)",
    "café crème 1,5 l",
]


def reference(model, tokenizer, out_file):
    batch = tokenizer(TITLES, padding=True, return_tensors="pt")
    model.eval()
    with torch.no_grad():
        out = model.bert(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                         output_hidden_states=True)
    tensors = {"input_ids": batch["input_ids"].contiguous(),
               "attention_mask": batch["attention_mask"].contiguous()}
    for i, h in enumerate(out.hidden_states):
        tensors[f"hidden_{i}"] = h.contiguous()
    save_file(tensors, out_file)
    print(f"wrote {out_file}: ids {batch['input_ids'].tolist()}")


def make(vocab_dir, out_dir):
    tokenizer = BertTokenizer.from_pretrained(vocab_dir)
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=32,
                        hidden_act="gelu")
    torch.manual_seed(0)
    model = BertForMaskedLM(config)
    with torch.no_grad():  # move LayerNorms and biases off 1/0 so every tensor is exercised
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    model.save_pretrained(out_dir)  # the vocabulary stays VOCAB_DIR's: copy it beside
    reference(model, tokenizer, f"{out_dir}/reference.safetensors")


def check(doppel_dir, out_file):
    model, info = BertForMaskedLM.from_pretrained(doppel_dir, output_loading_info=True,
                                                  attn_implementation="eager")
    problems = {k: v for k, v in info.items() if v}
    if problems:
        print(f"{doppel_dir}: loading problems {problems}")
        return 1
    reference(model, BertTokenizer.from_pretrained(doppel_dir), out_file)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    else:
        print(__doc__)
        sys.exit(2)
