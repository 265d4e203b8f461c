#include "decide/logistic_stack.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "util/error.h"

namespace doppel {
namespace {

constexpr double kRidge = 1.0;       // on the weights, not the bias
constexpr int kMaxNewtonSteps = 50;  // it converges in under ten on real scores
constexpr double kScoreClip = 1e-6;  // logit(0) and logit(1) are infinite

double logit(float score) {
  const double p = std::clamp(static_cast<double>(score), kScoreClip, 1 - kScoreClip);
  return std::log(p / (1 - p));
}

double sigmoid(double z) { return 1 / (1 + std::exp(-z)); }

void check_columns(std::span<const int> columns, int num_features) {
  for (size_t j = 0; j < columns.size(); ++j) {
    if (columns[j] < 0 || columns[j] >= num_features)
      fail("stacked column {} is not one of the {} feature columns", columns[j], num_features);
    if (std::find(columns.begin(), columns.begin() + j, columns[j]) != columns.begin() + j)
      fail("stacked column {} is named twice", columns[j]);
  }
}

// Solves a · s = b for a small dense symmetric positive definite a (d × d, row-major) by Gaussian
// elimination with partial pivoting.
std::vector<double> solve(std::vector<double> a, std::vector<double> b) {
  const size_t d = b.size();
  for (size_t c = 0; c < d; ++c) {
    size_t pivot = c;
    for (size_t r = c + 1; r < d; ++r)
      if (std::abs(a[r * d + c]) > std::abs(a[pivot * d + c])) pivot = r;
    for (size_t k = 0; k < d; ++k) std::swap(a[c * d + k], a[pivot * d + k]);
    std::swap(b[c], b[pivot]);
    for (size_t r = c + 1; r < d; ++r) {
      const double f = a[r * d + c] / a[c * d + c];
      for (size_t k = c; k < d; ++k) a[r * d + k] -= f * a[c * d + k];
      b[r] -= f * b[c];
    }
  }
  std::vector<double> s(d);
  for (size_t r = d; r-- > 0;) {
    double sum = b[r];
    for (size_t k = r + 1; k < d; ++k) sum -= a[r * d + k] * s[k];
    s[r] = sum / a[r * d + r];
  }
  return s;
}

}  // namespace

std::vector<float> hide_columns(const float* x, size_t n, int num_features,
                                std::span<const int> columns) {
  const auto width = static_cast<size_t>(num_features);
  std::vector<float> hidden(x, x + n * width);
  for (size_t i = 0; i < n; ++i)
    for (int column : columns) hidden[i * width + static_cast<size_t>(column)] = NAN;
  return hidden;
}

LogisticStack LogisticStack::fit(std::span<const float> scores, const float* x, int num_features,
                                 std::vector<int> columns, std::span<const uint8_t> labels) {
  check_columns(columns, num_features);
  if (scores.size() != labels.size())
    fail("stack: {} scores for {} labels", scores.size(), labels.size());
  size_t positives = 0;
  for (uint8_t label : labels) positives += label ? 1 : 0;
  if (positives == 0 || positives == labels.size())
    fail("stack: the held-out rows need matches and non-matches ({} of {} are matches)", positives,
         labels.size());
  const size_t n = labels.size(), k = columns.size(), d = k + 2;  // score, columns, bias
  const auto width = static_cast<size_t>(num_features);

  LogisticStack stack;
  stack.fill_.assign(k, 0.0);
  for (size_t j = 0; j < k; ++j) {
    double sum = 0;
    size_t present = 0;
    for (size_t i = 0; i < n; ++i) {
      const float v = x[i * width + static_cast<size_t>(columns[j])];
      if (!std::isnan(v)) sum += v, ++present;
    }
    stack.fill_[j] = present ? sum / static_cast<double>(present) : 0.0;
  }
  // The design matrix: logit(score), the columns (missing ones filled), 1.
  std::vector<double> design(n * d);
  for (size_t i = 0; i < n; ++i) {
    double* row = design.data() + i * d;
    row[0] = logit(scores[i]);
    for (size_t j = 0; j < k; ++j) {
      const float v = x[i * width + static_cast<size_t>(columns[j])];
      row[1 + j] = std::isnan(v) ? stack.fill_[j] : v;
    }
    row[d - 1] = 1;
  }
  std::vector<double> w(d, 0.0);
  for (int step = 0; step < kMaxNewtonSteps; ++step) {
    std::vector<double> gradient(d, 0.0), hessian(d * d, 0.0);
    for (size_t c = 0; c + 1 < d; ++c) {
      gradient[c] = kRidge * w[c];
      hessian[c * d + c] = kRidge;
    }
    for (size_t i = 0; i < n; ++i) {
      const double* row = design.data() + i * d;
      double z = 0;
      for (size_t c = 0; c < d; ++c) z += w[c] * row[c];
      const double p = sigmoid(z), residual = p - labels[i], curvature = p * (1 - p);
      for (size_t c = 0; c < d; ++c) {
        gradient[c] += residual * row[c];
        for (size_t e = 0; e < d; ++e) hessian[c * d + e] += curvature * row[c] * row[e];
      }
    }
    const auto delta = solve(std::move(hessian), gradient);
    double largest = 0;
    for (size_t c = 0; c < d; ++c) {
      w[c] -= delta[c];
      largest = std::max(largest, std::abs(delta[c]));
    }
    if (largest < 1e-9) break;
  }
  stack.columns_ = std::move(columns);
  stack.weights_.assign(w.begin(), w.end() - 1);
  stack.bias_ = w.back();
  return stack;
}

LogisticStack LogisticStack::from_parts(std::vector<int> columns, std::vector<double> weights,
                                        double bias, std::vector<double> fill) {
  if (columns.empty()) fail("stack: no columns");
  if (weights.size() != columns.size() + 1)
    fail("stack: {} weights for {} columns (one more is the score's)", weights.size(),
         columns.size());
  if (fill.size() != columns.size())
    fail("stack: {} fill values for {} columns", fill.size(), columns.size());
  for (double v : weights)
    if (!std::isfinite(v)) fail("stack: a weight is not finite");
  if (!std::isfinite(bias)) fail("stack: the bias is not finite");
  LogisticStack stack;
  stack.columns_ = std::move(columns);
  stack.weights_ = std::move(weights);
  stack.bias_ = bias;
  stack.fill_ = std::move(fill);
  return stack;
}

void LogisticStack::apply(std::span<float> scores, const float* x, int num_features) const {
  if (empty()) return;
  const auto width = static_cast<size_t>(num_features);
  for (size_t i = 0; i < scores.size(); ++i) {
    double z = bias_ + weights_[0] * logit(scores[i]);
    for (size_t j = 0; j < columns_.size(); ++j) {
      const float v = x[i * width + static_cast<size_t>(columns_[j])];
      z += weights_[1 + j] * (std::isnan(v) ? fill_[j] : v);
    }
    scores[i] = static_cast<float>(sigmoid(z));
  }
}

}  // namespace doppel
