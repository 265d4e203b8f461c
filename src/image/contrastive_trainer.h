// The optional second training stage of the image encoder (`doppel train image --stage
// contrastive`): after MAE pretraining, encoder and projection head are fine-tuned so that
// matching images get close vectors. Each step takes a batch of photos, makes two augmented
// inputs of each (different crops, colours and randomly drawn cells), embeds all of them and
// minimises a supervised contrastive loss (InfoNCE / SupCon, temperature τ): for every input the
// positives are its twin and, when labels are given, every input of an image with the same label
// (a cluster of listings known to match); all other inputs in the batch are negatives. Without
// labels this is SimCLR on the catalog's images. The decoder is left as it is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "image/augment.h"
#include "image/image_source.h"
#include "nn/optimizer_options.h"

namespace doppel {

struct ContrastiveOptions {
  int epochs = 10;
  int batch_size = 64;         // images per step (twice as many inputs)
  int64_t max_steps = 0;       // stop after this many steps (0 = run every epoch)
  double temperature = 0.1;
  int checkpoint_every = 200;  // steps between checkpoints in dir/checkpoints/contrastive
  int log_every = 20;
  uint64_t seed = 42;
  AugmentOptions augment;
  nn::OptimizerOptions optimizer{.lr = 2e-4, .weight_decay = 0.05, .warmup_fraction = 0.1};
  size_t cache_megabytes = 1024;  // decoded images kept in memory (as MaeOptions)
  void validate() const;  // Error naming the field
};

struct ContrastiveReport {
  int64_t steps = 0;
  int64_t resumed_from_step = 0;
  size_t images = 0;
  double images_per_second = 0;
  double seconds = 0;
  std::vector<std::pair<int64_t, double>> loss_curve;  // (step, mean loss since the last point)
};

// Fine-tunes the complete image model in `dir` (it must have a head: pretrain_mae writes one) on
// `refs`; labels is empty or has one entry per ref (equal values = the same product; negative =
// unknown, only its twin is a positive). Images that fail to load are skipped with a warning.
// Saves model.safetensors and head.safetensors in dir and the loss curve in
// dir/contrastive_log.json; `resume` continues from dir/checkpoints/contrastive.
ContrastiveReport train_contrastive(const std::filesystem::path& dir, std::span<const std::string> refs,
                                    std::span<const int> labels, const ImageFetcherOptions& fetcher,
                                    const ContrastiveOptions& options, bool resume);

}  // namespace doppel
