#include "synth/shopee_benchmark.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include "catalog/test_dir.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::TestDir;

// 40 groups: group g has g % 3 + 1 postings (79 in all), titles sharing the group's words.
std::string toy_postings() {
  std::string csv = "posting_id,image,image_phash,title,label_group\n";
  for (int g = 0; g < 40; ++g)
    for (int k = 0; k <= g % 3; ++k)
      csv += fmt::format("p{}_{},x.jpg,ff,\"kettle {} steel model{} v{}\",{}\n", g, k, g % 5, g, k,
                         1000 + g);
  return csv;
}

TEST(ShopeeBenchmark, GroupsStayInOneSplitAndPairsFollowTheGroups) {
  TestDir dir;
  const ShopeeBenchmark b = make_shopee_benchmark(dir.write("train.csv", toy_postings()), {});
  ASSERT_EQ(b.catalog.listings.size(), 79u);
  std::map<std::string, size_t> index;
  std::map<std::string, std::set<std::string>> splits_of_group;
  for (size_t i = 0; i < b.catalog.listings.size(); ++i) {
    index[b.catalog.listings[i].id] = i;
    splits_of_group[b.catalog.product_of[i]].insert(b.split[i]);
    EXPECT_TRUE(b.catalog.listings[i].image.empty());
  }
  for (const auto& [group, splits] : splits_of_group) EXPECT_EQ(splits.size(), 1u) << group;
  size_t positives = 0;
  std::map<std::string, size_t> negatives_of;
  for (const LabeledPair& p : b.catalog.labels) {
    const size_t a = index.at(p.id_a), c = index.at(p.id_b);
    EXPECT_EQ(b.split[a], p.split);
    EXPECT_EQ(b.split[c], p.split);
    EXPECT_EQ(p.match, b.catalog.product_of[a] == b.catalog.product_of[c]);
    positives += p.match;
    if (!p.match) {
      ++negatives_of[p.id_a];
      ++negatives_of[p.id_b];
    }
  }
  EXPECT_EQ(positives, 13u * 1 + 13u * 3);  // 13 groups of 2, 13 of 3 (and 14 of 1)
  // Every posting asks for 2 nearest + 1 random non-match; a repeat may be its neighbour's pair.
  for (const Listing& l : b.catalog.listings) EXPECT_GE(negatives_of[l.id], 1u) << l.id;
  std::set<std::string> seen_splits(b.split.begin(), b.split.end());
  EXPECT_EQ(seen_splits.size(), 3u);
}

TEST(ShopeeBenchmark, WritesPerSplitTruthAndIsDeterministic) {
  TestDir dir;
  const auto csv = dir.write("train.csv", toy_postings());
  write_shopee_benchmark(make_shopee_benchmark(csv, {}), dir.path() / "a");
  write_shopee_benchmark(make_shopee_benchmark(csv, {}), dir.path() / "b");
  size_t truth_rows = 0;
  for (const char* file : {"listings.csv", "pairs.csv", "clusters.csv", "clusters_train.csv",
                           "clusters_valid.csv", "clusters_test.csv"}) {
    const std::string a = read_file(dir.path() / "a" / file);
    EXPECT_EQ(a, read_file(dir.path() / "b" / file)) << file;
    if (std::string_view(file).starts_with("clusters_"))
      truth_rows += size_t(std::count(a.begin(), a.end(), '\n')) - 1;
  }
  EXPECT_EQ(truth_rows, 79u);  // the three splits partition the postings
}

TEST(ShopeeBenchmark, RepeatedPostingIsAnError) {
  TestDir dir;
  const auto csv = dir.write("train.csv", "posting_id,title,label_group\na,x,1\na,y,2\n");
  try {
    make_shopee_benchmark(csv, {});
    FAIL() << "posting a twice";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(csv.string()));
  }
}

TEST(ShopeeBenchmark, TheSubset) {
  const fs::path subset = "../shared/data/shopee-subset/train_subset.csv";
  if (!fs::exists(subset)) GTEST_SKIP() << subset << " not present";
  const ShopeeBenchmark b = make_shopee_benchmark(subset, {});
  EXPECT_EQ(b.catalog.listings.size(), 3425u);
  size_t positives = 0;
  for (const LabeledPair& p : b.catalog.labels) positives += p.match;
  EXPECT_EQ(positives, 801u);  // every within-group pair, whatever its split
}

}  // namespace
}  // namespace doppel
