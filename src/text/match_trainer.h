// Fine-tuning the text encoder for matching (`doppel train text --stage match`): the BERT and the
// CNN head are trained so that listings of one product get close vectors. Contrastive InfoNCE over
// in-batch negatives, both directions (a->b and b->a), plus one hard negative per pair: a labelled
// non-match of the anchor, or its nearest neighbour outside its cluster under the current model
// (mined from the whole catalog at the start of each epoch). Pairs whose listings share a cluster
// are never used as each other's negatives. The epoch kept is the one with the best validation
// metric on labelled pairs; training stops early once `patience` epochs have not improved on it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "nn/optimizer_options.h"
#include "text/neural_text_encoder.h"

namespace doppel {

struct MatchTrainingData {
  std::vector<std::string> texts;  // every listing's model_text(); pairs index into it
  std::vector<std::pair<size_t, size_t>> positives;  // matches for training (clusters expanded)
  std::vector<std::pair<size_t, size_t>> negatives;  // labelled non-matches for training
  std::vector<std::pair<size_t, size_t>> valid_pairs;
  std::vector<uint8_t> valid_labels;  // 1 = same product
  // Higher is better, e.g. average precision of the cosine scores of valid_pairs.
  std::function<double(std::span<const float> scores, std::span<const uint8_t> labels)> valid_metric;
};

enum class HardNegatives { kNone, kLabelled, kMined, kBoth };

struct MatchOptions {
  int epochs = 40;           // at most: see patience
  int patience = 5;          // stop after this many epochs without a better valid metric (0: never)
  int batch_size = 64;       // pairs per step
  double temperature = 0.05;
  double body_lr_scale = 0.2;  // BERT's learning rate relative to the head's
  HardNegatives hard_negatives = HardNegatives::kBoth;
  int mined_candidates = 10;   // a mined negative is drawn from this many nearest neighbours
  uint64_t seed = 42;
  nn::OptimizerOptions optimizer{.lr = 3e-3, .warmup_fraction = 0.1};
  // The head attached when the model has none yet (a model that has one keeps it and is trained
  // further). Empty layers: the model's last (up to) 4; max_length is capped by the model.
  TokenCnnHeadConfig head{.layers = {}};
  void validate() const;       // Error naming the field
};

struct MatchReport {
  int best_epoch = 0;  // 1-based; 0 when no validation pairs (the last epoch is kept)
  std::vector<double> train_loss;    // mean per epoch run (fewer than epochs when stopped early)
  std::vector<double> valid_metric;  // per epoch (empty without validation pairs)
  double valid_metric_before = 0;    // of the model before fine-tuning
};

// Fine-tunes the model in `dir` (which needs at least a pretrained or loaded BERT) and saves it
// back with its head. Error when there are no positive pairs.
MatchReport train_match(const std::filesystem::path& dir, const MatchTrainingData& data,
                        const MatchOptions& options);

}  // namespace doppel
