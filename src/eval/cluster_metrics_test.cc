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

TEST(ClusterMetrics, LengthMismatchIsError) {
  const std::vector<int64_t> short_ids = {1};
  EXPECT_THROW(pairwise_cluster_metrics(short_ids, kTruth), Error);
  EXPECT_THROW(per_item_f1(short_ids, kTruth), Error);
}

}  // namespace
}  // namespace doppel
