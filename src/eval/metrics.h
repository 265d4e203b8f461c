// Binary classification metrics over scored pairs: counts, P/R/F1 (positive class, negative class,
// macro), precision-recall curves and threshold choice. Pure functions over spans; no I/O.
//
// Conventions used everywhere in this header:
//  - `scores[i]` is a confidence, `labels[i]` is 1 for a true match and 0 otherwise; the two spans
//    must have equal length (doppel::Error otherwise).
//  - A score >= threshold is a positive prediction.
//  - A ratio whose denominator is zero (precision with no positive predictions, recall with no
//    positive labels, F1 when precision + recall == 0) is 0, never NaN.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace doppel {

struct BinaryCounts {
  size_t tp = 0, fp = 0, tn = 0, fn = 0;
};

struct BinaryMetrics {
  BinaryCounts counts;
  double precision = 0;    // of the positive class: tp / (tp + fp)
  double recall = 0;       // tp / (tp + fn)
  double f1 = 0;           // positive-class F1
  double negative_f1 = 0;  // F1 of the negative class (tn as its "true positives")
  double macro_f1 = 0;     // mean of f1 and negative_f1
  double accuracy = 0;     // (tp + tn) / n
  float threshold = 0;
};

// Harmonic mean of p and r; 0 when both are 0.
double f1_score(double precision, double recall);

// Confusion counts at `threshold`.
BinaryCounts binary_counts(std::span<const float> scores, std::span<const uint8_t> labels,
                           float threshold);

// All metrics at `threshold`.
BinaryMetrics binary_metrics(std::span<const float> scores, std::span<const uint8_t> labels,
                             float threshold);

// One point of a precision-recall curve: the metrics when every score >= threshold is positive.
struct PrPoint {
  float threshold = 0;
  double precision = 0, recall = 0, f1 = 0;
};

// One point per distinct score (threshold = that score), sorted by threshold descending, so recall
// is non-decreasing along the vector. O(n log n). Empty input gives an empty curve.
std::vector<PrPoint> pr_curve(std::span<const float> scores, std::span<const uint8_t> labels);

// The threshold that maximises positive-class F1. The optimum is an interval between two adjacent
// distinct scores (s_hi accepted, s_lo rejected); the midpoint of that interval is returned so
// that a score slightly off a training value is not flipped (when the best cut accepts every
// item, the lowest score itself is returned). Ties in F1 go to the higher threshold. Empty input
// or no positive labels gives 0.5.
float best_f1_threshold(std::span<const float> scores, std::span<const uint8_t> labels);

// The lowest threshold (a score from the data) whose precision is >= target_precision, i.e. the
// one with the most recall among those reaching the target. When no threshold reaches it, the
// highest score is returned (the most conservative cut); empty input gives 1.
float threshold_for_precision(std::span<const float> scores, std::span<const uint8_t> labels,
                              double target_precision);

// Average precision: sum over distinct thresholds of (R_k - R_{k-1}) * P_k, as scikit-learn's
// average_precision_score. 0 when there are no positive labels.
double average_precision(std::span<const float> scores, std::span<const uint8_t> labels);

}  // namespace doppel
