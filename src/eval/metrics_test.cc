#include "eval/metrics.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "util/error.h"

namespace doppel {
namespace {

// 4 positives, 4 negatives, worked out by hand in the comments below.
const std::vector<float> kScores = {0.9f, 0.8f, 0.7f, 0.6f, 0.4f, 0.3f, 0.2f, 0.1f};
const std::vector<uint8_t> kLabels = {1, 1, 0, 1, 0, 1, 0, 0};

TEST(BinaryMetrics, CountsAndRatiosOnToySet) {
  const auto m = binary_metrics(kScores, kLabels, 0.5f);
  EXPECT_EQ(m.counts.tp, 3u);
  EXPECT_EQ(m.counts.fp, 1u);
  EXPECT_EQ(m.counts.fn, 1u);
  EXPECT_EQ(m.counts.tn, 3u);
  EXPECT_DOUBLE_EQ(m.precision, 0.75);
  EXPECT_DOUBLE_EQ(m.recall, 0.75);
  EXPECT_DOUBLE_EQ(m.f1, 0.75);
  EXPECT_DOUBLE_EQ(m.negative_f1, 0.75);
  EXPECT_DOUBLE_EQ(m.macro_f1, 0.75);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.75);
  EXPECT_FLOAT_EQ(m.threshold, 0.5f);
}

TEST(BinaryMetrics, ThresholdIsInclusive) {
  const auto m = binary_metrics(kScores, kLabels, 0.6f);
  EXPECT_EQ(m.counts.tp, 3u);
  EXPECT_EQ(m.counts.fp, 1u);
}

TEST(BinaryMetrics, NoPositivePredictionsGivesZeroPrecision) {
  const auto m = binary_metrics(kScores, kLabels, 2.0f);
  EXPECT_EQ(m.counts.tp + m.counts.fp, 0u);
  EXPECT_EQ(m.precision, 0.0);
  EXPECT_EQ(m.f1, 0.0);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.5);
}

TEST(BinaryMetrics, MismatchedLengthsAndNaNAreErrors) {
  const std::vector<uint8_t> short_labels = {1, 0};
  EXPECT_THROW(binary_metrics(kScores, short_labels, 0.5f), Error);
  const std::vector<float> nan_scores = {0.1f, std::nanf("")};
  EXPECT_THROW(pr_curve(nan_scores, short_labels), Error);
}

TEST(PrCurve, OnePointPerDistinctScoreDescending) {
  const std::vector<float> scores = {0.5f, 0.9f, 0.5f, 0.1f};
  const std::vector<uint8_t> labels = {1, 1, 0, 0};
  const auto curve = pr_curve(scores, labels);
  ASSERT_EQ(curve.size(), 3u);
  EXPECT_FLOAT_EQ(curve[0].threshold, 0.9f);
  EXPECT_FLOAT_EQ(curve[1].threshold, 0.5f);
  EXPECT_DOUBLE_EQ(curve[1].precision, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(curve[1].recall, 1.0);
}

TEST(PrCurve, RecallIsMonotoneAndMatchesBinaryMetrics) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<float> scores(500);
  std::vector<uint8_t> labels(500);
  for (size_t i = 0; i < scores.size(); ++i) {
    labels[i] = u(rng) < 0.3f;
    scores[i] = std::round((labels[i] ? 0.3f : 0.0f) + 0.7f * u(rng) * 100) / 100;  // with ties
  }
  const auto curve = pr_curve(scores, labels);
  ASSERT_FALSE(curve.empty());
  for (size_t k = 1; k < curve.size(); ++k) {
    EXPECT_GT(curve[k - 1].threshold, curve[k].threshold);
    EXPECT_GE(curve[k].recall, curve[k - 1].recall);
  }
  EXPECT_DOUBLE_EQ(curve.back().recall, 1.0);
  for (size_t k = 0; k < curve.size(); k += 7) {
    const auto m = binary_metrics(scores, labels, curve[k].threshold);
    EXPECT_DOUBLE_EQ(m.precision, curve[k].precision);
    EXPECT_DOUBLE_EQ(m.recall, curve[k].recall);
  }
}

TEST(BestF1Threshold, ToySetKnownAnswer) {
  // Best cut accepts {0.9, 0.8, 0.7, 0.6, 0.4, 0.3}: P = 4/6, R = 1, F1 = 0.8; the next score
  // down is 0.2, so the midpoint 0.25 is returned.
  const float t = best_f1_threshold(kScores, kLabels);
  EXPECT_NEAR(t, 0.25f, 1e-6);
  EXPECT_NEAR(binary_metrics(kScores, kLabels, t).f1, 0.8, 1e-12);
}

TEST(BestF1Threshold, TiesGoToHigherThresholdAndDegenerateInputs) {
  // Cuts at 0.8 (P=1,R=.5 → .667) and at 0.2 (P=.5,R=1 → .667) tie: the higher one wins.
  const std::vector<float> scores = {0.8f, 0.2f, 0.2f, 0.2f};
  const std::vector<uint8_t> labels = {1, 1, 0, 0};
  EXPECT_GT(best_f1_threshold(scores, labels), 0.2f);
  EXPECT_LE(best_f1_threshold(scores, labels), 0.8f);
  EXPECT_FLOAT_EQ(best_f1_threshold({}, {}), 0.5f);
  const std::vector<uint8_t> none = {0, 0, 0, 0};
  EXPECT_FLOAT_EQ(best_f1_threshold(scores, none), 0.5f);
}

TEST(ThresholdForPrecision, LowestThresholdReachingTarget) {
  EXPECT_FLOAT_EQ(threshold_for_precision(kScores, kLabels, 0.75), 0.6f);
  EXPECT_FLOAT_EQ(threshold_for_precision(kScores, kLabels, 1.0), 0.8f);
  EXPECT_FLOAT_EQ(threshold_for_precision(kScores, kLabels, 1.01), 0.9f);  // none: highest score
}

TEST(AveragePrecision, ToySet) {
  // Recall steps of 0.25 at precisions 1, 1, 3/4, 4/6.
  EXPECT_NEAR(average_precision(kScores, kLabels), 0.25 * (1 + 1 + 0.75 + 4.0 / 6.0), 1e-12);
  const std::vector<uint8_t> none(kScores.size(), 0);
  EXPECT_EQ(average_precision(kScores, none), 0.0);
}

}  // namespace
}  // namespace doppel
