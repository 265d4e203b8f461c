#include "pipeline/scored_pairs_file.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "util/expect_error.h"
#include "util/files.h"
#include "util/process_temp_dir.h"

namespace doppel {
namespace {

std::filesystem::path temp_file(const std::string& name) {
  return process_temp_dir("doppel_scored_pairs") / name;
}

std::vector<ScoredPair> read_all(const std::filesystem::path& path) {
  ScoredPairsReader reader(path);
  std::vector<ScoredPair> pairs;
  ScoredPair pair;
  while (reader.next(pair)) pairs.push_back(pair);
  return pairs;
}

std::vector<ScoredPair> merged(const std::vector<std::filesystem::path>& files) {
  std::vector<ScoredPair> pairs;
  merge_scored_pairs(files, [&](const ScoredPair& pair) { pairs.push_back(pair); });
  return pairs;
}

MATCHER_P3(IsPair, a, b, confidence, "") {
  return arg.a == a && arg.b == b && arg.confidence == confidence;
}

TEST(ScoredPairsFile, RoundTripsOnePairAtATime) {
  const auto path = temp_file("round_trip.bin");
  save_scored_pairs(path, std::vector<ScoredPair>{{1, 5, 0.25f}, {1, 7, 0.5f}, {3, 4, 1.0f}});
  EXPECT_THAT(read_all(path),
              ::testing::ElementsAre(IsPair(1, 5, 0.25f), IsPair(1, 7, 0.5f), IsPair(3, 4, 1.0f)));
  save_scored_pairs(path, {});
  EXPECT_TRUE(read_all(path).empty());
}

TEST(ScoredPairsFile, DamagedFilesAreErrorsNamingTheFile) {
  const auto path = temp_file("damaged.bin");
  save_scored_pairs(path, std::vector<ScoredPair>{{1, 5, 0.25f}, {2, 3, 0.5f}});
  const std::string bytes = read_file(path);
  const auto load = [](const std::filesystem::path& p) { read_all(p); };
  expect_load_error(path, bytes.substr(0, bytes.size() - 4), load, "the file is damaged");
  expect_load_error(path, bytes + "x", load, "the file is damaged");
  expect_load_error(path, "not pairs at all", load, "magic is");
  expect_load_error(path, "DPL", load, "truncated");
  for (const auto& unordered : {std::vector<ScoredPair>{{2, 3, 0.5f}, {1, 5, 0.25f}},
                                std::vector<ScoredPair>{{1, 5, 0.25f}, {1, 5, 0.25f}},
                                std::vector<ScoredPair>{{5, 1, 0.25f}}}) {
    save_scored_pairs(path, unordered);
    expect_error([&] { read_all(path); }, {path.string(), "out of order"});
  }
}

TEST(ScoredPairsFile, MergeGivesEveryPairOnceInOrder) {
  const auto a = temp_file("a.bin"), b = temp_file("b.bin"), c = temp_file("c.bin");
  save_scored_pairs(a, std::vector<ScoredPair>{{1, 2, 0.9f}, {2, 8, 0.1f}, {4, 5, 0.3f}});
  save_scored_pairs(b, std::vector<ScoredPair>{{1, 3, 0.2f}, {2, 8, 0.1f}, {6, 7, 0.7f}});
  save_scored_pairs(c, {});
  EXPECT_THAT(merged({a, b, c}),
              ::testing::ElementsAre(IsPair(1, 2, 0.9f), IsPair(1, 3, 0.2f), IsPair(2, 8, 0.1f),
                                     IsPair(4, 5, 0.3f), IsPair(6, 7, 0.7f)));
  // The same pair with two scores (which shards never write) keeps the higher one, as
  // cluster_pairs would.
  save_scored_pairs(c, std::vector<ScoredPair>{{2, 8, 0.6f}});
  EXPECT_THAT(merged({a, c}),
              ::testing::ElementsAre(IsPair(1, 2, 0.9f), IsPair(2, 8, 0.6f), IsPair(4, 5, 0.3f)));
  EXPECT_TRUE(merged({}).empty());
}

}  // namespace
}  // namespace doppel
