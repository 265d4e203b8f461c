// Domain pretraining of the image encoder as a masked autoencoder on catalog images
// (`doppel train image`): each step takes a batch of photos, augments them (augment.h), builds
// the encoder's input (structured patch selection with randomly drawn cells, tiled into the
// 128² mosaic), hides 75% of the patches and trains ViT-MAE to reconstruct them. AdamW with
// warm-up and linear decay, gradient clipping, a progress bar with loss and images/s,
// checkpoints, and resume. Afterwards the projection head is fitted as a PCA of the pooled
// encoder outputs of the same images, so the folder is a complete NeuralImageEncoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "image/augment.h"
#include "image/image_source.h"
#include "image/neural_image_encoder.h"
#include "image/vit_mae_config.h"
#include "nn/optimizer_options.h"

namespace doppel {

struct MaeOptions {
  int epochs = 30;
  int batch_size = 64;
  int64_t max_steps = 0;       // stop after this many steps (0 = run every epoch)
  int checkpoint_every = 200;  // steps between checkpoints in dir/checkpoints/mae
  int log_every = 20;          // steps per point of the loss curve
  uint64_t seed = 42;
  AugmentOptions augment;
  // MAE's recipe (AdamW β2 0.95, weight decay 0.05) with a higher peak rate for a small model
  // trained briefly.
  nn::OptimizerOptions optimizer{.lr = 1e-3, .weight_decay = 0.05, .warmup_fraction = 0.05,
                                 .beta2 = 0.95};
  // Decoded training images are kept in memory up to this many megabytes (shrunk to twice the
  // size the input recipe needs); the rest are decoded again every epoch.
  size_t cache_megabytes = 1024;
  bool fit_head = true;  // fit the PCA head afterwards (fit_pca_head)
  void validate() const;  // Error naming the field
};

struct MaeReport {
  int64_t steps = 0;
  int64_t resumed_from_step = 0;
  size_t images = 0;          // usable training images
  size_t skipped_images = 0;  // images that could not be fetched or decoded (warned about)
  double images_per_second = 0;
  double seconds = 0;
  // (step, mean loss over the steps since the previous point)
  std::vector<std::pair<int64_t, double>> loss_curve;
};

// Trains the ViT-MAE in `dir` on the images `refs` (paths or URLs, read through `fetcher`) and
// saves it there (config.json, model.safetensors; then encoder.json and head.safetensors when
// options.fit_head). When dir holds no model yet, a fresh one of `new_model` with the input
// recipe `new_encoder` is created (Error when dir has no model and new_model is empty). With
// `resume`, continues from the checkpoint in dir/checkpoints/mae (Error when there is none).
// Writes the loss curve to dir/mae_log.json. Images that fail to load are skipped with a
// warning; Error when none loads.
MaeReport pretrain_mae(const std::filesystem::path& dir, std::span<const std::string> refs,
                       const ImageFetcherOptions& fetcher, const MaeOptions& options,
                       const std::optional<ViTMAEConfig>& new_model,
                       const ImageEncoderConfig& new_encoder, bool resume);

// Fits the projection head of the model in `dir` as a PCA (to encoder_config.out_dim) of the
// pooled encoder outputs of up to `max_images` of `refs`, and writes encoder.json (from
// `encoder_config`, which may change the input recipe or pooling) and head.safetensors. Error
// when fewer images load than out_dim (PCA needs at least as many rows as components).
void fit_pca_head(const std::filesystem::path& dir, std::span<const std::string> refs,
                  const ImageFetcherOptions& fetcher, const ImageEncoderConfig& encoder_config,
                  size_t max_images = 20000);

}  // namespace doppel
