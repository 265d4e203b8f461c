// DeciderOptions — how a decider is trained: which classifier (gradient-boosted trees or a small
// multilayer perceptron), its hyper-parameters, cross-fitting, calibration and the threshold
// rule. Every default is written next to its field; validate() names the first bad value.
// The options are stored in decider.json (decider.h) so a trained decider says how it was made.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string_view>
#include <vector>

#include "nn/optimizer_options.h"

namespace doppel {

// The classifier inside the decider. Both see the same pair features; both output a raw match
// score in [0, 1] that the decider then calibrates.
enum class Classifier {
  kXgboost,  // gradient-boosted trees (XGBoost C API): the default, best on small labelled sets
  kMlp,      // a multilayer perceptron (libtorch): smooth in the vector features, fast to apply
};

std::string_view classifier_name(Classifier classifier);  // "xgboost", "mlp"
// Error naming the accepted names when `name` is none of them.
Classifier parse_classifier(std::string_view name);

struct XgboostOptions {
  int rounds = 400;                // maximum boosting rounds
  int max_depth = 6;               // tree depth
  float eta = 0.05f;               // learning rate, (0, 1]
  float subsample = 0.8f;          // row fraction per round, (0, 1]
  float colsample = 0.7f;          // feature fraction per split (colsample_bynode), (0, 1]
  int parallel_trees = 4;          // trees per round, averaged (a small random forest per
                                   // boosting step): steadier on the small labelled sets of
                                   // entity matching, see docs/decisions.md
  int early_stopping_rounds = 40;  // stop after this many rounds without a better valid
                                   // logloss; 0 = never stop early

  void validate() const;
};

struct MlpOptions {
  std::vector<int> hidden = {128, 32};  // widths of the hidden layers (ReLU), at least one
  int epochs = 200;                     // maximum passes over the training pairs
  int batch = 128;                      // pairs per optimiser step
  // AdamW with linear warm-up and decay over epochs × batches steps (nn/optimizer.h)
  nn::OptimizerOptions optimizer = {.lr = 1e-3, .weight_decay = 1e-4};
  float dropout = 0.1f;  // after each hidden layer while training, [0, 1)
  int patience = 15;     // stop after this many epochs without a better valid
                         // logloss; the best epoch's weights are kept

  void validate() const;
};

struct DeciderOptions {
  Classifier classifier = Classifier::kXgboost;
  XgboostOptions xgboost;  // used when classifier == kXgboost
  MlpOptions mlp;          // used when classifier == kMlp
  int threads = 0;         // XGBoost threads, 0 = all cores (libtorch uses its global pool)
  uint64_t seed = 42;      // makes training deterministic for a given thread count
  // K of train_cross_fitted(), 2..20. 1 (the default) means one model trained on train with
  // early stopping and the threshold chosen on the valid split (Decider::train, which ignores
  // this field), as the decider is specified; cross-fitting is the alternative for small
  // labelled sets, compared in docs/results.md.
  int folds = 1;
  // Random pairs of catalog listings that the pipeline adds to the train pairs as non-matches,
  // per labelled train pair (pipeline/labeled_pairs.h, random_negatives); 0 = labelled pairs only.
  double random_negatives = 1.0;
  // Add pairs of the catalog labelled by rules (pipeline/bootstrap_labels.h) to the labelled
  // train pairs: a first decider for a catalog that has no labels, or few.
  bool bootstrap = false;
  bool calibrate = true;        // isotonic calibration on the held-out predictions
  double target_precision = 0;  // 0: threshold for the best F1; in (0, 1): the lowest threshold
                                // whose held-out precision reaches this

  // Throws doppel::Error naming the first out-of-range field (of the chosen classifier too).
  void validate() const;
};

// decider.json's "options" object (format version 4) and back. from_json reads versions 1–3 too:
// their options were XGBoost's, flat in the object. Error (nlohmann's) on a missing field.
nlohmann::json options_to_json(const DeciderOptions& options);
DeciderOptions options_from_json(const nlohmann::json& json, int version);

}  // namespace doppel
