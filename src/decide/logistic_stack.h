// LogisticStack — a second stage over a classifier's score: a few feature columns that the
// classifier was not given are joined with its score by a logistic regression,
//   stacked = sigmoid(w_0 · logit(score) + Σ_j w_j · x[column_j] + bias),
// fitted on held-out rows (the rows a decider calibrates on), by Newton's method with a small
// ridge on the weights so that separable rows still give finite ones. A missing column value
// (NaN) takes the column's mean over the rows it was fitted on.
//
// What it is for (docs/decisions.md, "The neural text cosine is stacked on the classifier's
// score"): a signal that is weak next to the other columns, such as a text encoder's cosine
// beside forty pair features, mostly adds variance inside a tree ensemble fitted on a few thousand
// pairs; as one monotone term on top of the ensemble's score it costs nothing where it carries
// nothing (its weight goes to about 0) and adds what it carries elsewhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace doppel {

// A copy of the n rows of x (row-major, num_features each) with `columns` set to NaN (missing):
// the rows a classifier that must not see those columns is trained on and given.
std::vector<float> hide_columns(const float* x, size_t n, int num_features,
                                std::span<const int> columns);

class LogisticStack {
 public:
  LogisticStack() = default;  // no columns: apply() leaves scores as they are

  // Fits on n held-out rows: `scores` (n classifier scores in [0, 1]), `x` (row-major, n ×
  // num_features), the stacked `columns` (indices into a row, distinct, < num_features) and
  // `labels` (0/1, both present). Error when the inputs disagree in length, a column is out of
  // range or repeated, or a class is missing.
  static LogisticStack fit(std::span<const float> scores, const float* x, int num_features,
                           std::vector<int> columns, std::span<const uint8_t> labels);
  // From stored parts (decider.json): weights has columns.size() + 1 entries (the score's first),
  // fill has columns.size(). Error naming what is wrong otherwise.
  static LogisticStack from_parts(std::vector<int> columns, std::vector<double> weights,
                                  double bias, std::vector<double> fill);

  // Replaces each of the n scores by its stacked value, reading the stacked columns of the same
  // rows of x (row-major, num_features each).
  void apply(std::span<float> scores, const float* x, int num_features) const;

  bool empty() const { return columns_.empty(); }
  const std::vector<int>& columns() const { return columns_; }
  const std::vector<double>& weights() const { return weights_; }  // score's, then the columns'
  double bias() const { return bias_; }
  const std::vector<double>& fill() const { return fill_; }

 private:
  std::vector<int> columns_;
  std::vector<double> weights_;
  double bias_ = 0;
  std::vector<double> fill_;
};

}  // namespace doppel
