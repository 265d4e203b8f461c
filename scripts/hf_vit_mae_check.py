#!/usr/bin/env python3
"""Cross-checks doppel's ViT-MAE against Hugging Face transformers (needs torch, transformers and
safetensors; run it where they are installed, doppel itself does not need Python).

  hf_vit_mae_check.py make DIR
      writes a tiny random ViTMAEForPreTraining with transformers' save_pretrained into DIR
      (LayerNorms and biases perturbed so that the check exercises every tensor).
  hf_vit_mae_check.py check DIR REFERENCE.safetensors
      loads DIR with transformers' from_pretrained (no missing or unexpected weights allowed),
      runs it on the pixels and masking noise stored in REFERENCE (written by
      `image_nn_bench reference DIR REFERENCE.safetensors`) and compares with doppel's outputs
      there: encoder hidden states without masking, decoder logits, mask and loss.

Run `make`, then doppel's `reference` on that folder (HF wrote, doppel reads), and `check`;
also `reference` on a folder doppel trained, then `check` (doppel wrote, HF reads).
"""
import sys

import torch
from safetensors.torch import load_file
from transformers import ViTMAEConfig, ViTMAEForPreTraining


def make(folder):
    config = ViTMAEConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                          intermediate_size=64, image_size=64, patch_size=8,
                          decoder_hidden_size=16, decoder_num_hidden_layers=1,
                          decoder_num_attention_heads=2, decoder_intermediate_size=32,
                          norm_pix_loss=True, qkv_bias=True)
    torch.manual_seed(0)
    model = ViTMAEForPreTraining(config)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.05 * torch.randn_like(p))
    model.save_pretrained(folder)
    print(f"wrote {folder}")


def check(folder, reference):
    model, info = ViTMAEForPreTraining.from_pretrained(folder, output_loading_info=True,
                                                       attn_implementation="eager")
    problems = {k: v for k, v in info.items() if v}
    if problems:
        print(f"{folder}: loading problems {problems}")
        return 1
    model.eval()
    ref = load_file(reference)
    pixels, noise = ref["pixels"], ref["noise"]
    with torch.no_grad():
        out = model(pixel_values=pixels, noise=noise)
        diffs = {
            "logits": (out.logits - ref["logits"]).abs().max().item(),
            "mask": (out.mask - ref["mask"]).abs().max().item(),
            "loss": abs(out.loss.item() - ref["loss"].item()),
        }
        model.config.mask_ratio = 0.0  # keep every patch, in order: the embedding path
        in_order = torch.arange(noise.shape[1], dtype=torch.float32).repeat(noise.shape[0], 1)
        hidden = model.vit(pixel_values=pixels, noise=in_order).last_hidden_state
        diffs["hidden"] = (hidden - ref["hidden"]).abs().max().item()
    print(f"{folder}: max |transformers - doppel| " +
          ", ".join(f"{k} {v:.2e}" for k, v in diffs.items()) + f" (loss {out.loss.item():.6f})")
    return 0 if all(v < 1e-4 for v in diffs.values()) else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "make":
        make(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3]))
    else:
        print(__doc__)
        sys.exit(2)
