#include "eval/cluster_metrics.h"

#include <gtest/gtest.h>

#include <vector>

#include "util/error.h"

namespace doppel {
namespace {

// True groups {0,1,2} {3,4} {5}; predicted {0,1} {2,3,4} {5}.
const std::vector<int64_t> kTruth = {0, 0, 0, 1, 1, 2};
const std::vector<int64_t> kPredicted = {5, 5, 6, 6, 6, 7};

TEST(PairwiseClusterMetrics, ToyExampleByHand) {
  const auto m = pairwise_cluster_metrics(kPredicted, kTruth);
  EXPECT_EQ(m.predicted_pairs, 4u);  // (0,1) (2,3) (2,4) (3,4)
  EXPECT_EQ(m.true_pairs, 4u);       // (0,1) (0,2) (1,2) (3,4)
  EXPECT_EQ(m.correct_pairs, 2u);    // (0,1) (3,4)
  EXPECT_DOUBLE_EQ(m.precision, 0.5);
  EXPECT_DOUBLE_EQ(m.recall, 0.5);
  EXPECT_DOUBLE_EQ(m.f1, 0.5);
}

TEST(PairwiseClusterMetrics, PerfectAndSingletons) {
  const auto perfect = pairwise_cluster_metrics(kTruth, kTruth);
  EXPECT_DOUBLE_EQ(perfect.f1, 1.0);
  const std::vector<int64_t> singletons = {0, 1, 2, 3, 4, 5};
  const auto m = pairwise_cluster_metrics(singletons, kTruth);
  EXPECT_EQ(m.predicted_pairs, 0u);
  EXPECT_EQ(m.precision, 0.0);
  EXPECT_EQ(m.recall, 0.0);
}

TEST(PerItemF1, ToyExampleByHand) {
  // Items 0,1: 2·2/(2+3) = .8; item 2: 2·1/(3+3) = 1/3; items 3,4: 2·2/(3+2) = .8; item 5: 1.
  EXPECT_NEAR(per_item_f1(kPredicted, kTruth), (0.8 * 4 + 1.0 / 3.0 + 1.0) / 6.0, 1e-12);
}

TEST(PerItemF1, AllSingletonsPrediction) {
  // An item in a true group of g scores 2/(1+g).
  const std::vector<int64_t> singletons = {10, 11, 12, 13, 14, 15};
  EXPECT_NEAR(per_item_f1(singletons, kTruth), (3 * 0.5 + 2 * (2.0 / 3.0) + 1.0) / 6.0, 1e-12);
  EXPECT_DOUBLE_EQ(per_item_f1(kTruth, kTruth), 1.0);
  EXPECT_EQ(per_item_f1({}, {}), 0.0);
}

TEST(PerItemF1, DuplicatesOnly) {
  // Item 5 is alone in its true group and left out: (0.8·4 + 1/3) / 5.
  EXPECT_NEAR(per_item_f1(kPredicted, kTruth, 2), (0.8 * 4 + 1.0 / 3.0) / 5.0, 1e-12);
  const std::vector<int64_t> alone = {0, 1, 2};
  EXPECT_EQ(per_item_f1(alone, alone, 2), 0.0);  // no duplicates at all
}

// Truth known for items 0,1 (group 0) and 3,4 (group 1); items 2 and 5 are not evaluated.
// Predicted {0,1,2} {3} {4,5}.
const std::vector<int64_t> kPartialTruth = {0, 0, kNotEvaluated, 1, 1, kNotEvaluated};
const std::vector<int64_t> kWholePrediction = {5, 5, 5, 6, 7, 7};

TEST(PairwiseClusterMetrics, ItemsOutsideTheTruthCostPrecisionOnly) {
  const auto m = pairwise_cluster_metrics(kWholePrediction, kPartialTruth);
  EXPECT_EQ(m.predicted_pairs, 4u);  // (0,1) (0,2) (1,2) (4,5): each holds an evaluated item
  EXPECT_EQ(m.true_pairs, 2u);       // (0,1) (3,4)
  EXPECT_EQ(m.correct_pairs, 1u);    // (0,1)
  EXPECT_DOUBLE_EQ(m.precision, 0.25);
  EXPECT_DOUBLE_EQ(m.recall, 0.5);
  EXPECT_DOUBLE_EQ(m.f1, 1.0 / 3.0);
  // Two items outside the truth clustered together are no predicted pair of the evaluation.
  const std::vector<int64_t> outside_pair = {5, 5, 6, 7, 7, 6};
  EXPECT_EQ(pairwise_cluster_metrics(outside_pair, kPartialTruth).predicted_pairs, 2u);
}

TEST(PerItemF1, OnlyEvaluatedItemsWithTheirWholePredictedCluster) {
  // Items 0,1: 2·2/(3+2) = .8; item 3: 2·1/(1+2) = 2/3; item 4: 2·1/(2+2) = .5.
  EXPECT_NEAR(per_item_f1(kWholePrediction, kPartialTruth), (0.8 * 2 + 2.0 / 3.0 + 0.5) / 4.0,
              1e-12);
}

TEST(ClusterMetrics, LengthMismatchIsError) {
  const std::vector<int64_t> short_ids = {1};
  EXPECT_THROW(pairwise_cluster_metrics(short_ids, kTruth), Error);
  EXPECT_THROW(per_item_f1(short_ids, kTruth), Error);
}

}  // namespace
}  // namespace doppel
