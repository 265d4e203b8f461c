// ImageModel — the trainable whole behind NeuralImageEncoder: the input recipe, ViT-MAE (encoder
// and decoder) and the projection head, loaded from and saved to a model folder (layout in
// neural_image_encoder.h). Shared by the MAE trainer, the head fitting and the encoder.
//
// Internal to the torch-using .cc files of the image module.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>

#include "image/neural_image_encoder.h"
#include "image/vit_mae_config.h"
#include "image/vit_mae_model.h"

namespace doppel {

class ImageModel {
 public:
  // A fresh model: random ViT-MAE and a zero head. Errors name the invalid field.
  ImageModel(const ViTMAEConfig& mae, const ImageEncoderConfig& encoder);

  // Loads the whole folder: config.json, model.safetensors, encoder.json, head.safetensors.
  // A checkpoint whose image_size differs from the recipe's input size loads too (the encoder
  // then uses sin-cos positions of the input's grid); such a model can embed but not be
  // pretrained. Errors name the file.
  static ImageModel load(const std::filesystem::path& dir);
  // Loads config.json and model.safetensors only, with the input recipe `encoder` and a zero head
  // (to pretrain it further or fit a new head).
  static ImageModel load_mae(const std::filesystem::path& dir, const ImageEncoderConfig& encoder);

  void save_mae(const std::filesystem::path& dir) const;   // config.json + model.safetensors
  void save_head(const std::filesystem::path& dir) const;  // encoder.json + head.safetensors

  // Normalised model inputs [n, 3, S, S] for RGB CV_8UC3 images. With `seed`, training draws
  // (random cells from seed + i for image i); without, the fixed inference selection (for the
  // random-cells ablation: cells drawn from a hash of the image's pixels, so an image always gets
  // the same cells).
  torch::Tensor inputs(std::span<const cv::Mat> images, std::optional<uint64_t> seed) const;

  // Pooled encoder output [B, hidden] (no masking): mean of the patch tokens or the CLS token.
  torch::Tensor pooled(const torch::Tensor& pixels);
  // The head over pooled(): [B, out_dim], L2-normalised.
  torch::Tensor embed(const torch::Tensor& pixels);
  torch::Tensor project(const torch::Tensor& pooled_features);  // head + L2 norm

  const ViTMAEConfig& mae_config() const { return mae_config_; }
  const ImageEncoderConfig& encoder_config() const { return encoder_config_; }
  ViTMAEForPreTraining& mae() { return mae_; }
  torch::nn::Linear& head() { return head_; }
  // image_size equals the recipe's input size (pretraining reconstructs exactly that input).
  bool pretrainable() const;
  void train(bool on);

 private:
  ViTMAEConfig mae_config_;
  ImageEncoderConfig encoder_config_;
  ViTMAEForPreTraining mae_{nullptr};
  torch::nn::Linear head_{nullptr};
};

}  // namespace doppel
