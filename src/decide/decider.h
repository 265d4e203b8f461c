// Decider — a classifier over pair features that turns a candidate pair into a calibrated match
// confidence in [0,1], plus the decision threshold that goes with it. The threshold is chosen on
// held-out data, never on test data. The classifier is gradient-boosted trees (XGBoost, the
// default) or a multilayer perceptron (libtorch), chosen by DeciderOptions::classifier
// (decider_options.h); everything below holds for both.
//
// Two ways to train it:
//  - train(): one model fitted on a train split, early-stopped on a valid split whose
//    predictions choose the threshold.
//  - train_cross_fitted(): K models over all labelled pairs (train ∪ valid). The pairs are cut
//    into K folds stratified by label; model k trains on the other K-1 folds and early-stops on
//    fold k. Every pair thus gets one out-of-fold (OOF) prediction from the model that never
//    saw it, and the threshold is chosen on those n OOF predictions instead of on a small valid
//    split, which makes it much less noisy when labelled sets are a few thousand pairs.
// Either way the confidence is the mean of the models' predictions (train() is the K = 1 case).
//
// Confidence is calibrated (options.calibrate, the default): an isotonic map (calibration.h)
// fitted on the held-out predictions — the valid split, or the out-of-fold predictions — turns
// the models' mean into a match probability, and the threshold is chosen on calibrated scores:
// for the best F1, or (options.target_precision) the lowest one whose precision reaches the
// target.
//
// On disk (a folder, e.g. ws/models/decider/), format version 4:
//   decider.json   {"format": "doppel-decider", "version": 4, "threshold", "feature_names",
//                   "best_iteration", "models": [{"file": "model_0.ubj", "bytes"}, ...],
//                   "options": {"classifier": "xgboost"|"mlp", ...} (decider_options.h),
//                   "calibration": {"scores": [...], "probabilities": [...]}}
//   model_<k>.ubj          XGBoost model k in XGBoost's own UBJSON format, trimmed to its best
//   round model_<k>.safetensors  or MLP k (mlp_model.h)
// Every file is written atomically, the models before decider.json; "bytes" lets load() report a
// truncated model file clearly. load() also reads the XGBoost-only versions 1 (one model.ubj, its
// size in "model_bytes"), 2 (no calibration: the identity) and 3 (options flat in "options").
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "decide/decider_options.h"
#include "decide/score_model.h"

namespace doppel {

// Assigns each of the labels' rows to one of `folds` folds, stratified by label: the indices of
// each class are shuffled with std::mt19937_64(seed) and dealt round-robin (the deal continues
// from the negatives into the positives), so every fold gets floor or ceil of each class's share
// and the assignment depends only on (labels, folds, seed). Returns the fold of each row.
std::vector<int> stratified_folds(std::span<const uint8_t> labels, int folds, uint64_t seed);

class Decider {
 public:
  // Trains on (x_train, y_train), row-major n × num_features floats with NaN for missing values
  // and labels 0/1. (x_valid, y_valid) picks the best iteration (lowest valid logloss, with early
  // stopping) and the threshold (best_f1_threshold of valid predictions). Error when a split is
  // empty or has one class only, or options are invalid.
  static Decider train(const float* x_train, std::span<const uint8_t> y_train, const float* x_valid,
                       std::span<const uint8_t> y_valid, int num_features,
                       const DeciderOptions& options);

  // Trains options.folds boosters on (x, y), all labelled pairs (n = y.size() rows), cross-fitted
  // on stratified_folds(y, options.folds, options.seed) as described at the top of this file; the
  // threshold is best_f1_threshold of the out-of-fold predictions. When `oof_scores` is given it
  // receives those n predictions (to report metrics that no booster saw in training). Error when
  // options are invalid, options.folds < 2, or a class has fewer pairs than folds.
  static Decider train_cross_fitted(const float* x, std::span<const uint8_t> y, int num_features,
                                    const DeciderOptions& options,
                                    std::vector<float>* oof_scores = nullptr);

  // Confidences for n rows (row-major, num_features() floats each, NaN = missing). Thread-safe;
  // each call uses the threads set below, so batch rows rather than calling per pair.
  std::vector<float> predict(const float* x, size_t n) const;
  // The threads one predict() call may use (XGBoost; 0 = all cores, the default of a trained
  // decider). A server whose requests already run in parallel gives 1: a team of threads costs
  // more than the few rows of one match. Not while another thread predicts.
  void set_prediction_threads(int threads);
  // Which code walks an XGBoost decider's trees (score_model.h): the compiled copy by default,
  // XGBoost's own predictor for a side-by-side benchmark. An MLP decider ignores it. Not while
  // another thread predicts.
  void set_tree_predictor(TreePredictor predictor);

  float threshold() const;
  void set_threshold(float threshold);  // Error unless in [0, 1]
  int num_features() const;
  // 0-based boosting round (or MLP epoch) kept by training; for a cross-fitted decider, the mean
  // of its models' best iterations, rounded to nearest.
  int best_iteration() const;
  int num_models() const;  // 1 for train(), options.folds for train_cross_fitted()
  Classifier classifier() const;
  const DeciderOptions& options() const;  // as trained (as stored, for a loaded decider)
  // The file model k is saved to: model_<k>.ubj or model_<k>.safetensors.
  static std::string model_file_name(Classifier classifier, size_t k);

  // Writes dir/model_file_name(k) for each model, then dir/decider.json (creating dir), then
  // removes model files of an earlier save that this one does not list. `feature_names` must have
  // num_features() entries.
  void save(const std::filesystem::path& dir,
            std::span<const std::string_view> feature_names) const;
  // Reads format versions 1 to 4. Error (naming the file) when a file is missing or damaged, the
  // format or version is unknown, or the stored feature names differ from `expected_feature_names`
  // (the message names the first mismatch).
  static Decider load(const std::filesystem::path& dir,
                      std::span<const std::string_view> expected_feature_names);
  // The same without the check: the stored feature names go to `feature_names`, for a caller
  // that derives its features from them (pipeline/feature_layout.h).
  static Decider load(const std::filesystem::path& dir, std::vector<std::string>* feature_names);

  Decider(Decider&&) noexcept;
  Decider& operator=(Decider&&) noexcept;
  Decider(const Decider&) = delete;
  Decider& operator=(const Decider&) = delete;
  ~Decider();

 private:
  struct Impl;
  explicit Decider(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace doppel
