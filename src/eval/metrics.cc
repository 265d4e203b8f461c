#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "util/error.h"

namespace doppel {
namespace {

void check_inputs(std::span<const float> scores, std::span<const uint8_t> labels) {
  if (scores.size() != labels.size()) {
    fail("metrics: {} scores but {} labels", scores.size(), labels.size());
  }
  for (size_t i = 0; i < scores.size(); ++i) {
    if (std::isnan(scores[i])) fail("metrics: score {} is NaN", i);
  }
}

double ratio(double num, double den) { return den > 0 ? num / den : 0.0; }

// Indices of `scores` ordered by score descending (ties by index, for determinism).
std::vector<size_t> order_desc(std::span<const float> scores) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return scores[x] > scores[y]; });
  return order;
}

}  // namespace

double f1_score(double precision, double recall) {
  return precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
}

BinaryCounts binary_counts(std::span<const float> scores, std::span<const uint8_t> labels,
                           float threshold) {
  check_inputs(scores, labels);
  BinaryCounts c;
  for (size_t i = 0; i < scores.size(); ++i) {
    const bool predicted = scores[i] >= threshold;
    const bool actual = labels[i] != 0;
    if (predicted && actual) ++c.tp;
    if (predicted && !actual) ++c.fp;
    if (!predicted && actual) ++c.fn;
    if (!predicted && !actual) ++c.tn;
  }
  return c;
}

BinaryMetrics binary_metrics(std::span<const float> scores, std::span<const uint8_t> labels,
                             float threshold) {
  BinaryMetrics m;
  m.counts = binary_counts(scores, labels, threshold);
  const auto& c = m.counts;
  m.threshold = threshold;
  m.precision = ratio(c.tp, c.tp + c.fp);
  m.recall = ratio(c.tp, c.tp + c.fn);
  m.f1 = f1_score(m.precision, m.recall);
  m.negative_f1 = f1_score(ratio(c.tn, c.tn + c.fn), ratio(c.tn, c.tn + c.fp));
  m.macro_f1 = (m.f1 + m.negative_f1) / 2;
  m.accuracy = ratio(c.tp + c.tn, c.tp + c.tn + c.fp + c.fn);
  return m;
}

std::vector<PrPoint> pr_curve(std::span<const float> scores, std::span<const uint8_t> labels) {
  check_inputs(scores, labels);
  const auto order = order_desc(scores);
  const size_t positives =
      static_cast<size_t>(std::count_if(labels.begin(), labels.end(), [](uint8_t l) { return l; }));
  std::vector<PrPoint> curve;
  size_t tp = 0, predicted = 0;
  for (size_t i = 0; i < order.size();) {
    const float s = scores[order[i]];
    for (; i < order.size() && scores[order[i]] == s; ++i) {
      ++predicted;
      if (labels[order[i]]) ++tp;
    }
    PrPoint p;
    p.threshold = s;
    p.precision = ratio(tp, predicted);
    p.recall = ratio(tp, positives);
    p.f1 = f1_score(p.precision, p.recall);
    curve.push_back(p);
  }
  return curve;
}

float best_f1_threshold(std::span<const float> scores, std::span<const uint8_t> labels) {
  const auto curve = pr_curve(scores, labels);
  if (curve.empty() || curve.back().recall == 0) return 0.5f;
  size_t best = 0;
  for (size_t k = 1; k < curve.size(); ++k) {
    if (curve[k].f1 > curve[best].f1) best = k;  // strict: ties keep the higher threshold
  }
  if (best + 1 == curve.size()) return curve[best].threshold;
  const float hi = curve[best].threshold;
  const float lo = curve[best + 1].threshold;
  const float mid = lo + (hi - lo) / 2;
  // With adjacent floats the midpoint can round down to `lo`; keep the accepted side accepted.
  return mid > lo ? mid : hi;
}

float threshold_for_precision(std::span<const float> scores, std::span<const uint8_t> labels,
                              double target_precision) {
  const auto curve = pr_curve(scores, labels);
  if (curve.empty()) return 1.0f;
  float chosen = curve.front().threshold;
  for (const auto& p : curve) {
    if (p.precision >= target_precision) chosen = p.threshold;
  }
  return chosen;
}

double average_precision(std::span<const float> scores, std::span<const uint8_t> labels) {
  const auto curve = pr_curve(scores, labels);
  double ap = 0, previous_recall = 0;
  for (const auto& p : curve) {
    ap += (p.recall - previous_recall) * p.precision;
    previous_recall = p.recall;
  }
  return ap;
}

}  // namespace doppel
