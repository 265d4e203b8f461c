#include "eval/cluster_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "catalog/test_dir.h"
#include "util/error.h"

namespace doppel {
namespace {

using ::testing::HasSubstr;
using testing::TestDir;

// The test groups of a catalog: {t1,t2} and {t3,t4}, and t6 alone. The dedup clustered the whole
// catalog, train items x1..x3 included: {t1,t2,x1} {t3} {t4,x2} {t6} {x3}.
constexpr std::string_view kTruth = "id,cluster_id\nt1,g1\nt2,g1\nt3,g2\nt4,g2\nt6,g3\n";
constexpr std::string_view kPredicted =
    "id,cluster_id\nt1,t1\nt2,t1\nx1,t1\nt3,t3\nt4,t4\nx2,t4\nt6,t6\nx3,x3\n";

TEST(ScoreClusterFile, TestGroupsOfAWholeCatalogByHand) {
  TestDir dir;
  const ClusterScores s =
      score_cluster_file(dir.write("truth.csv", kTruth), dir.write("clusters.csv", kPredicted));
  EXPECT_EQ(s.items, 5u);
  EXPECT_EQ(s.duplicate_items, 4u);
  EXPECT_EQ(s.predicted_clusters, 2u);  // {t1,t2,x1} and {t4,x2}
  // Predicted pairs with an evaluated item: (t1,t2) (t1,x1) (t2,x1) (t4,x2); correct: (t1,t2).
  EXPECT_EQ(s.pairwise.predicted_pairs, 4u);
  EXPECT_EQ(s.pairwise.true_pairs, 2u);
  EXPECT_DOUBLE_EQ(s.pairwise.precision, 0.25);
  EXPECT_DOUBLE_EQ(s.pairwise.recall, 0.5);
  // t1,t2: 2·2/(3+2); t3: 2/(1+2); t4: 2/(2+2); t6: 1.
  EXPECT_NEAR(s.per_item_f1, (0.8 + 0.8 + 2.0 / 3.0 + 0.5 + 1.0) / 5.0, 1e-12);
  EXPECT_NEAR(s.per_item_f1_duplicates, (0.8 + 0.8 + 2.0 / 3.0 + 0.5) / 4.0, 1e-12);
}

TEST(ScoreClusterFile, SingletonsReference) {
  TestDir dir;
  const ClusterScores s = score_singletons(dir.write("truth.csv", kTruth));
  EXPECT_EQ(s.name, "singletons");
  EXPECT_EQ(s.predicted_clusters, 0u);
  EXPECT_EQ(s.pairwise.predicted_pairs, 0u);
  EXPECT_NEAR(s.per_item_f1, (4 * 2.0 / 3.0 + 1.0) / 5.0, 1e-12);
  EXPECT_NEAR(s.per_item_f1_duplicates, 2.0 / 3.0, 1e-12);
}

TEST(ScoreClusterFile, MissingOrRepeatedIdsAreErrorsNamingTheFile) {
  TestDir dir;
  const auto truth = dir.write("truth.csv", kTruth);
  const auto lacking = dir.write("lacking.csv", "id,cluster_id\nt1,a\nt2,a\nt3,b\nt4,b\n");
  try {
    score_cluster_file(truth, lacking);
    FAIL() << "t6 is not clustered";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(lacking.string()));
    EXPECT_THAT(e.what(), HasSubstr("'t6'"));
  }
  const auto twice = dir.write("twice.csv", "id,cluster_id\nt1,a\nt1,b\n");
  EXPECT_THROW(score_cluster_file(twice, twice), Error);
  const auto markdown = cluster_scores_markdown(std::vector{score_singletons(truth)});
  EXPECT_THAT(markdown, HasSubstr("| singletons | 0.0000 |"));
}

}  // namespace
}  // namespace doppel
