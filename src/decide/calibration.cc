#include "decide/calibration.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "util/error.h"

namespace doppel {

IsotonicCalibration IsotonicCalibration::fit(std::span<const float> scores,
                                             std::span<const uint8_t> labels) {
  if (scores.size() != labels.size())
    fail("calibration: {} scores but {} labels", scores.size(), labels.size());
  if (scores.empty()) fail("calibration: no held-out predictions to fit on");
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Pool adjacent violators over blocks of (sum of scores, sum of labels, count); equal scores
  // start in one block so that a score maps to one value.
  struct Block {
    double score_sum, label_sum, count;
    double mean() const { return label_sum / count; }
  };
  std::vector<Block> blocks;
  for (size_t i : order) {
    if (!blocks.empty() && blocks.back().score_sum / blocks.back().count == scores[i]) {
      blocks.back().score_sum += scores[i];
      blocks.back().label_sum += labels[i];
      blocks.back().count += 1;
    } else {
      blocks.push_back({scores[i], static_cast<double>(labels[i]), 1});
    }
    while (blocks.size() > 1 && blocks[blocks.size() - 2].mean() >= blocks.back().mean()) {
      Block last = blocks.back();
      blocks.pop_back();
      blocks.back().score_sum += last.score_sum;
      blocks.back().label_sum += last.label_sum;
      blocks.back().count += last.count;
    }
  }
  IsotonicCalibration calibration;
  for (const Block& b : blocks) {
    calibration.knot_scores_.push_back(static_cast<float>(b.score_sum / b.count));
    calibration.knot_probabilities_.push_back(static_cast<float>(b.mean()));
  }
  return calibration;
}

IsotonicCalibration IsotonicCalibration::from_knots(std::vector<float> scores,
                                                    std::vector<float> probabilities) {
  if (scores.size() != probabilities.size())
    fail("calibration: {} knot scores but {} probabilities", scores.size(), probabilities.size());
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!(probabilities[i] >= 0 && probabilities[i] <= 1))
      fail("calibration: probability {} of knot {} is not in [0, 1]", probabilities[i], i);
    if (i > 0 && !(scores[i] > scores[i - 1]))
      fail("calibration: knot scores must increase, knot {} has {} after {}", i, scores[i],
           scores[i - 1]);
    if (i > 0 && probabilities[i] < probabilities[i - 1])
      fail("calibration: knot probabilities must not decrease (knot {})", i);
  }
  IsotonicCalibration calibration;
  calibration.knot_scores_ = std::move(scores);
  calibration.knot_probabilities_ = std::move(probabilities);
  return calibration;
}

float IsotonicCalibration::apply(float score) const {
  if (identity() || std::isnan(score)) return score;
  const auto& x = knot_scores_;
  const auto& y = knot_probabilities_;
  if (score <= x.front()) return y.front();
  if (score >= x.back()) return y.back();
  const size_t hi = std::upper_bound(x.begin(), x.end(), score) - x.begin();
  const size_t lo = hi - 1;
  const float t = (score - x[lo]) / (x[hi] - x[lo]);
  return y[lo] + t * (y[hi] - y[lo]);
}

void IsotonicCalibration::apply(std::span<float> scores) const {
  if (identity()) return;
  for (float& s : scores) s = apply(s);
}

}  // namespace doppel
