// ScoreModel — one fitted classifier inside a decider: rows of pair features in, raw match scores
// in [0, 1] out. Two kinds (decider_options.h): gradient-boosted trees (xgboost_model.h) and a
// multilayer perceptron (mlp_model.h). A Decider owns one per cross-fitting fold, averages their
// scores and calibrates the mean; it never needs to know which kind it holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

namespace doppel {

// Which code walks the trees of a tree model (ScoreModel::set_tree_predictor).
enum class TreePredictor {
  kCompiled,  // TreeEnsemble (tree_ensemble.h), the default: several times faster
  kXgboost,   // XGBoost's own predictor: the same scores, for benchmarks and checks
};

class ScoreModel {
 public:
  virtual ~ScoreModel() = default;

  // Scores of n rows (row-major, num_features floats each, NaN = missing). Thread-safe.
  virtual std::vector<float> predict(const float* x, size_t n) const = 0;
  // The threads one predict() call may use, 0 = all cores (a model that takes its threads from
  // a process-wide pool ignores it). Not while another thread predicts.
  virtual void set_threads(int /*threads*/) {}
  // A model without trees ignores it. Not while another thread predicts.
  virtual void set_tree_predictor(TreePredictor /*predictor*/) {}
  // Writes the model to `path` atomically (the file model_<k>.<file_extension()>).
  virtual void save(const std::filesystem::path& path) const = 0;
};

// The rows and labels a model is fitted on, and the held-out rows that stop its training early.
struct FitData {
  const float* x_train;
  std::span<const uint8_t> y_train;
  const float* x_valid;
  std::span<const uint8_t> y_valid;
  int num_features;
};

// What fitting returns: the model at its best iteration (boosting round or epoch, 0-based, chosen
// by the lowest valid logloss).
struct FittedModel {
  std::unique_ptr<ScoreModel> model;
  int best_iteration = 0;
};

}  // namespace doppel
