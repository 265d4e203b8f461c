#include "image/retrieval_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace doppel {
namespace {

TEST(RetrievalScores, HandComputedRanking) {
  // Query 0 (label 1): gallery by distance g2 (label 0), g0 (1), g3 (0), g1 (1)
  //   → first hit at rank 2; AP = (1/2 + 2/4) / 2 = 0.5.
  // Query 1 (label 0): g3 (0) first → R@1; the other label-0 item g2 is last (rank 4)
  //   → AP = (1/1 + 2/4) / 2 = 0.75.
  const std::vector<float> d = {0.2f, 0.9f, 0.1f, 0.3f,  //
                                0.5f, 0.6f, 0.7f, 0.0f};
  const std::vector<int> queries = {1, 0}, gallery = {1, 1, 0, 0};
  const RetrievalScores s = retrieval_scores(d, queries, gallery);
  EXPECT_EQ(s.queries, 2u);
  EXPECT_DOUBLE_EQ(s.recall_at_1, 0.5);
  EXPECT_DOUBLE_EQ(s.recall_at_5, 1.0);
  EXPECT_DOUBLE_EQ(s.mean_average_precision, (0.5 + 0.75) / 2);
}

TEST(RetrievalScores, RecallAtFiveNeedsAHitInTheTopFive) {
  std::vector<float> d(8);
  for (int g = 0; g < 8; ++g) d[size_t(g)] = float(g);
  const std::vector<int> query = {7};
  std::vector<int> gallery(8, 0);
  gallery[5] = 7;  // rank 6
  RetrievalScores s = retrieval_scores(d, query, gallery);
  EXPECT_EQ(s.recall_at_5, 0.0);
  EXPECT_DOUBLE_EQ(s.mean_average_precision, 1.0 / 6);
  gallery[4] = 7;  // rank 5 as well
  s = retrieval_scores(d, query, gallery);
  EXPECT_EQ(s.recall_at_5, 1.0);
  EXPECT_EQ(s.recall_at_1, 0.0);
  EXPECT_DOUBLE_EQ(s.mean_average_precision, (1.0 / 5 + 2.0 / 6) / 2);
}

TEST(RetrievalScores, TiesCountAgainstTheQuery) {
  // A constant distance tells nothing: the relevant item ranks after all others.
  const std::vector<float> d(4, 1.0f);
  const std::vector<int> query = {2}, gallery = {2, 0, 1, 3};
  const RetrievalScores s = retrieval_scores(d, query, gallery);
  EXPECT_EQ(s.recall_at_1, 0.0);
  EXPECT_DOUBLE_EQ(s.mean_average_precision, 0.25);
  // NaN ranks last, behind any finite distance.
  const std::vector<float> nan_first = {std::nanf(""), 5.0f, 6.0f, 7.0f};
  EXPECT_DOUBLE_EQ(retrieval_scores(nan_first, query, gallery).mean_average_precision, 0.25);
}

TEST(RetrievalScores, LeaveOneOutSkipsSelfAndQueriesWithoutMatches) {
  // Items 0 and 1 share label 5; item 2 is alone (skipped as a query).
  const std::vector<int> labels = {5, 5, 9};
  auto distance = [](size_t q, size_t g) { return q == g ? -1.0f : float(q + g); };
  const RetrievalScores s = retrieval_scores(distance, labels, labels, /*exclude_self=*/true);
  EXPECT_EQ(s.queries, 2u);
  EXPECT_EQ(s.recall_at_1, 1.0);  // item 0's nearest other is 1 (d=1), item 1's is 0 (d=1)
  EXPECT_EQ(s.mean_average_precision, 1.0);
}

}  // namespace
}  // namespace doppel
