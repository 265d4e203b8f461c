// ViTMAEConfig — the shape of a ViT masked autoencoder, stored as config.json with the field names
// of Hugging Face's ViTMAEConfig, so a doppel image model folder and a `facebook/vit-mae-*`-style
// checkpoint folder read the same way (unknown fields are ignored, as transformers does).
//
// The struct's defaults are transformers' defaults (ViT-B/16 with an 8-layer 512-d decoder), so a
// config.json that leaves a field out means what it means in Python. doppel's own CPU-sized model
// is ViTMAEConfig::cpu_default().
#pragma once

#include <filesystem>
#include <string>

namespace doppel {

struct ViTMAEConfig {
  int hidden_size = 768;
  int num_hidden_layers = 12;
  int num_attention_heads = 12;
  int intermediate_size = 3072;
  std::string hidden_act = "gelu";  // "gelu" (erf), "gelu_new"/"gelu_pytorch_tanh" (tanh), "relu"
  float hidden_dropout_prob = 0.0f;
  float attention_probs_dropout_prob = 0.0f;
  float initializer_range = 0.02f;
  float layer_norm_eps = 1e-12f;
  int image_size = 224;  // side of the square input in pixels (a multiple of patch_size)
  int patch_size = 16;
  int num_channels = 3;
  bool qkv_bias = true;
  int decoder_num_attention_heads = 16;
  int decoder_hidden_size = 512;
  int decoder_num_hidden_layers = 8;
  int decoder_intermediate_size = 2048;
  float mask_ratio = 0.75f;    // fraction of patches hidden from the encoder in pretraining
  bool norm_pix_loss = false;  // reconstruct each patch's pixels normalised to zero mean, unit var

  // Patches along one side of an image_size input, and in all.
  int grid() const { return image_size / patch_size; }
  int num_patches() const { return grid() * grid(); }

  // doppel's default image model, sized for a 2-core CPU (docs/images.md has the measurements):
  // 6 layers of 192 (3 heads), a 2-layer 128-d decoder, and image_size 128, which is the 8×8-patch
  // mosaic of the four 64² views of the structured patch selection; norm_pix_loss on (the MAE
  // paper's better-representation setting).
  static ViTMAEConfig cpu_default();

  // Error naming the field when a value is out of range (hidden_size not divisible by heads,
  // image_size not a multiple of patch_size, mask_ratio outside [0, 1), ...).
  void validate() const;

  // config.json in Hugging Face's layout (model_type "vit_mae", architectures
  // ["ViTMAEForPreTraining"]), written atomically.
  void save(const std::filesystem::path& config_json) const;
  // Reads config.json; Error naming the file and field for invalid JSON, a mistyped field, a
  // missing required field (the encoder's shape: hidden_size, num_hidden_layers,
  // num_attention_heads, intermediate_size, image_size, patch_size) or a model_type other than
  // "vit_mae". image_size and patch_size may also be [n, n] lists (transformers accepts both).
  static ViTMAEConfig load(const std::filesystem::path& config_json);
};

}  // namespace doppel
