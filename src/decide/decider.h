// Decider — a gradient-boosted classifier (XGBoost) over pair features that turns a candidate
// pair into a match confidence in [0,1], plus the decision threshold that goes with it. The
// threshold is chosen on validation data, never on test data.
//
// On disk (a folder, e.g. ws/models/decider/):
//   decider.json  {"format": "doppel-decider", "version": 1, "threshold", "feature_names",
//                  "best_iteration", "model_bytes", "options": {...}}
//   model.ubj     the booster in XGBoost's own UBJSON format, trimmed to the best iteration
// Both are written atomically; model_bytes lets load() report a truncated model.ubj clearly.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace doppel {

struct DeciderOptions {
  int rounds = 400;                // maximum boosting rounds
  int max_depth = 6;               // tree depth
  float eta = 0.05f;               // learning rate, (0, 1]
  float subsample = 0.8f;          // row fraction per round, (0, 1]
  float colsample = 0.7f;          // feature fraction per split (colsample_bynode), (0, 1]
  int parallel_trees = 4;          // trees per round, averaged (a small random forest per
                                   // boosting step): steadier on the small labelled sets of
                                   // entity matching, see docs/decisions.md
  int threads = 0;                 // 0 = all cores
  uint64_t seed = 42;              // makes training deterministic for a given thread count
  int early_stopping_rounds = 40;  // stop after this many rounds without a better valid
                                   // logloss; 0 = never stop early

  // Throws doppel::Error naming the first out-of-range field.
  void validate() const;
};

class Decider {
 public:
  // Trains on (x_train, y_train), row-major n × num_features floats with NaN for missing values
  // and labels 0/1. (x_valid, y_valid) picks the best iteration (lowest valid logloss, with early
  // stopping) and the threshold (best_f1_threshold of valid predictions). Error when a split is
  // empty or has one class only, or options are invalid.
  static Decider train(const float* x_train, std::span<const uint8_t> y_train, const float* x_valid,
                       std::span<const uint8_t> y_valid, int num_features,
                       const DeciderOptions& options);

  // Confidences for n rows (row-major, num_features() floats each, NaN = missing). Thread-safe:
  // concurrent callers are serialised by an internal mutex (each call already uses all the
  // threads XGBoost was given), so batch rows rather than calling per pair.
  std::vector<float> predict(const float* x, size_t n) const;

  float threshold() const;
  void set_threshold(float threshold);  // Error unless in [0, 1]
  int num_features() const;
  int best_iteration() const;  // 0-based boosting round kept by training

  // Writes dir/decider.json and dir/model.ubj (creating dir). `feature_names` must have
  // num_features() entries.
  void save(const std::filesystem::path& dir,
            std::span<const std::string_view> feature_names) const;
  // Error when a file is missing or damaged, the format or version is unknown, or the stored
  // feature names differ from `expected_feature_names` (the message names the first mismatch).
  static Decider load(const std::filesystem::path& dir,
                      std::span<const std::string_view> expected_feature_names);

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
