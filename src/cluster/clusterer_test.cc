#include "cluster/clusterer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "util/error.h"

namespace doppel {
namespace {

constexpr int64_t A = 1, B = 2, C = 3;

ClusterOptions options(Linkage linkage, size_t max_size = 200) {
  ClusterOptions o;
  o.threshold = 0.5f;
  o.linkage = linkage;
  o.max_cluster_size = max_size;
  return o;
}

// A batch scorer that answers each pair with `score(a, b)`.
template <typename F>
PairScorer per_pair(F score) {
  return [score](std::span<const std::pair<int64_t, int64_t>> pairs) {
    std::vector<float> out;
    for (const auto& [a, b] : pairs) out.push_back(score(a, b));
    return out;
  };
}

// Scorer that fails the test if called: every needed pair is in the input.
const PairScorer kNoScorer = per_pair([](int64_t a, int64_t b) {
  ADD_FAILURE() << "scorer asked for " << a << "," << b;
  return NAN;
});

TEST(Clusterer, AverageLinkageDoesNotChain) {
  const std::vector<ScoredPair> pairs = {{A, B, 0.9f}, {B, C, 0.9f}, {A, C, 0.05f}};
  const auto ids = cluster_pairs(pairs, kNoScorer, options(Linkage::kAverage));
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids.at(A), A);
  EXPECT_EQ(ids.at(B), A);
  EXPECT_EQ(ids.at(C), C);
}

TEST(Clusterer, ConnectedComponentsChains) {
  const std::vector<ScoredPair> pairs = {{A, B, 0.9f}, {B, C, 0.9f}, {A, C, 0.05f}};
  const auto ids = cluster_pairs(pairs, kNoScorer, options(Linkage::kConnectedComponents));
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids.at(A), A);
  EXPECT_EQ(ids.at(B), A);
  EXPECT_EQ(ids.at(C), A);
}

TEST(Clusterer, UnscoredCrossPairsComeFromScorer) {
  // Only the chain was scored; the scorer says A and C differ, so C stays apart.
  const std::vector<ScoredPair> pairs = {{A, B, 0.9f}, {B, C, 0.8f}};
  int calls = 0;
  const PairScorer scorer = per_pair([&](int64_t a, int64_t b) {
    ++calls;
    EXPECT_EQ(std::min(a, b), A);
    EXPECT_EQ(std::max(a, b), C);
    return 0.1f;
  });
  auto ids = cluster_pairs(pairs, scorer, options(Linkage::kAverage));
  EXPECT_EQ(ids.at(C), C);
  EXPECT_EQ(ids.at(B), A);
  EXPECT_EQ(calls, 1);
  // Unknown (NaN or no scorer) counts as 0: mean (0.8 + 0) / 2 < 0.5.
  ids = cluster_pairs(pairs, nullptr, options(Linkage::kAverage));
  EXPECT_EQ(ids.at(C), C);
  // A scorer that vouches for A~C lets the chain merge.
  ids = cluster_pairs(
      pairs, per_pair([](int64_t, int64_t) { return 0.7f; }), options(Linkage::kAverage));
  EXPECT_EQ(ids.at(C), A);
}

TEST(Clusterer, UnscoredCrossPairsOfAMergeAreAskedInOneBatch) {
  // Groups {1,2} and {3,4}, bridged by 2~3 only: merging them needs 1-3, 1-4 and 2-4. Looking
  // ahead, the three groups were still single listings, so the merge asks for itself.
  const std::vector<ScoredPair> pairs = {{1, 2, 0.9f}, {3, 4, 0.9f}, {2, 3, 0.8f}};
  std::vector<size_t> batch_sizes;
  const PairScorer scorer = [&](std::span<const std::pair<int64_t, int64_t>> asked) {
    batch_sizes.push_back(asked.size());
    return std::vector<float>(asked.size(), 0.7f);
  };
  const auto ids = cluster_pairs(pairs, scorer, options(Linkage::kAverage));
  ASSERT_EQ(batch_sizes.size(), 1u);
  EXPECT_EQ(batch_sizes[0], 3u);
  EXPECT_EQ(ids.at(4), 1);  // mean (0.8 + 3 * 0.7) / 4 >= 0.5
}

TEST(Clusterer, OpenMergesAheadAreAskedInOneBatch) {
  // Two bridges like the test above, {1,2}~{3,4} and {5,6}~{7,8}, after the groups have formed.
  const std::vector<ScoredPair> pairs = {{1, 2, 0.95f}, {3, 4, 0.95f}, {5, 6, 0.95f},
                                         {7, 8, 0.95f}, {2, 3, 0.8f},  {6, 7, 0.8f}};
  for (const size_t lookahead : {size_t{1}, size_t{4}}) {
    std::vector<size_t> batch_sizes;
    const PairScorer scorer = [&](std::span<const std::pair<int64_t, int64_t>> asked) {
      batch_sizes.push_back(asked.size());
      return std::vector<float>(asked.size(), 0.7f);
    };
    ClusterOptions o = options(Linkage::kAverage);
    o.lookahead = lookahead;
    const auto ids = cluster_pairs(pairs, scorer, o);
    EXPECT_EQ(ids.at(4), 1);
    EXPECT_EQ(ids.at(8), 5);
    // One merge at a time asks twice; looking four pairs ahead asks both merges' pairs at once.
    // Each merge needs two of its three: 0.8 + 0.7 + 0.7 already reaches 0.5 × 4.
    const std::vector<size_t> expected =
        lookahead == 1 ? std::vector<size_t>{2, 2} : std::vector<size_t>{4};
    EXPECT_EQ(batch_sizes, expected);
  }
}

// Average linkage the plain way: every cross pair of a merge scored, their mean compared with the
// threshold (in the clusterer's units, so that ties fall the same way).
std::unordered_map<int64_t, int64_t> plain_average_linkage(const std::vector<ScoredPair>& pairs,
                                                           const PairScorer& scorer,
                                                           const ClusterOptions& o) {
  const auto units = [](float c) { return std::llround(double(c) * double(int64_t{1} << 32)); };
  std::map<std::pair<int64_t, int64_t>, float> known;
  for (const auto& p : pairs) {
    auto [it, inserted] = known.try_emplace({std::min(p.a, p.b), std::max(p.a, p.b)}, p.confidence);
    if (!inserted) it->second = std::max(it->second, p.confidence);
  }
  std::vector<ScoredPair> accepted;  // every accepted line of the input is a merge to try
  for (const auto& p : pairs) {
    if (p.confidence >= o.threshold)
      accepted.push_back({std::min(p.a, p.b), std::max(p.a, p.b), p.confidence});
  }
  std::sort(accepted.begin(), accepted.end(), [](const ScoredPair& x, const ScoredPair& y) {
    return std::tie(y.confidence, x.a, x.b) < std::tie(x.confidence, y.a, y.b);
  });
  std::map<int64_t, std::vector<int64_t>> groups;  // by a member's key: its group
  std::map<int64_t, int64_t> group_of;
  const auto find = [&](int64_t key) {
    if (!group_of.contains(key)) {
      group_of[key] = key;
      groups[key] = {key};
    }
    return group_of[key];
  };
  for (const auto& edge : accepted) {
    const int64_t x = find(edge.a), y = find(edge.b);
    if (x == y || groups[x].size() + groups[y].size() > o.max_cluster_size) continue;
    int64_t sum = 0;
    for (int64_t a : groups[x]) {
      for (int64_t b : groups[y]) {
        const std::pair<int64_t, int64_t> key = {std::min(a, b), std::max(a, b)};
        const auto it = known.find(key);
        sum += units(it != known.end() ? it->second : scorer(std::span(&key, 1))[0]);
      }
    }
    if (sum < units(o.threshold) * int64_t(groups[x].size() * groups[y].size())) continue;
    for (int64_t key : groups[y]) group_of[key] = x;
    groups[x].insert(groups[x].end(), groups[y].begin(), groups[y].end());
    groups.erase(y);
  }
  std::unordered_map<int64_t, int64_t> ids;
  for (const auto& [g, members] : groups) {
    for (int64_t key : members) ids[key] = *std::min_element(members.begin(), members.end());
  }
  return ids;
}

TEST(Clusterer, LookaheadChangesNoCluster) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<ScoredPair> pairs;
  for (int i = 0; i < 3000; ++i) {
    const int64_t a = rng() % 400, b = a + 1 + rng() % 12;  // neighbourhoods that overlap
    pairs.push_back({a, b, u(rng)});
  }
  const PairScorer scorer = per_pair([](int64_t a, int64_t b) {
    return float((a * 7 + b * 13) % 10) / 9.0f;  // deterministic, any value in [0, 1]
  });
  ClusterOptions o = options(Linkage::kAverage, 12);
  o.lookahead = 1;
  const auto one_at_a_time = cluster_pairs(pairs, scorer, o);
  size_t merged = 0;
  for (const auto& [key, id] : one_at_a_time) merged += key != id;
  EXPECT_GT(merged, 100u);  // a test of something: many merges were tried and taken
  // Merges decided by their first scores (score_ahead's rounds) are decided as all scores would.
  EXPECT_EQ(one_at_a_time, plain_average_linkage(pairs, scorer, o));
  for (const size_t lookahead : {2, 7, 64, 1024}) {
    o.lookahead = lookahead;
    EXPECT_EQ(cluster_pairs(pairs, scorer, o), one_at_a_time) << "lookahead " << lookahead;
  }
}

TEST(Clusterer, CliqueOfFourIsOneCluster) {
  std::vector<ScoredPair> pairs;
  for (int64_t i = 10; i < 14; ++i) {
    for (int64_t j = i + 1; j < 14; ++j) pairs.push_back({j, i, 0.8f});
  }
  const auto ids = cluster_pairs(pairs, kNoScorer, options(Linkage::kAverage));
  ASSERT_EQ(ids.size(), 4u);
  for (const auto& [key, id] : ids) EXPECT_EQ(id, 10) << key;
}

TEST(Clusterer, MaxClusterSizeRespected) {
  std::vector<ScoredPair> pairs;
  for (int64_t i = 0; i < 10; ++i) {
    for (int64_t j = i + 1; j < 10; ++j) pairs.push_back({i, j, 0.9f});
  }
  for (auto linkage : {Linkage::kAverage, Linkage::kConnectedComponents}) {
    const auto ids = cluster_pairs(pairs, kNoScorer, options(linkage, 3));
    ASSERT_EQ(ids.size(), 10u);
    std::map<int64_t, size_t> sizes;
    for (const auto& [key, id] : ids) ++sizes[id];
    for (const auto& [id, n] : sizes) EXPECT_LE(n, 3u);
  }
}

TEST(Clusterer, RejectedAndSelfPairsAreNotInTheMap) {
  const std::vector<ScoredPair> pairs = {{A, B, 0.9f}, {C, 4, 0.2f}, {5, 5, 1.0f}, {6, 7, NAN}};
  const auto ids = cluster_pairs(pairs, kNoScorer, options(Linkage::kAverage));
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_FALSE(ids.contains(C));
  EXPECT_FALSE(ids.contains(5));
  EXPECT_FALSE(ids.contains(6));
}

TEST(Clusterer, DeterministicUnderInputOrder) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<ScoredPair> pairs;
  for (int i = 0; i < 400; ++i) {
    // Coarse scores so that ties are common.
    pairs.push_back({int64_t(rng() % 60), int64_t(rng() % 60), std::round(u(rng) * 10) / 10});
  }
  const PairScorer scorer = per_pair([](int64_t a, int64_t b) {
    return ((a + b) % 3 == 0) ? 0.9f : 0.2f;  // symmetric, deterministic
  });
  const auto expected = cluster_pairs(pairs, scorer, options(Linkage::kAverage));
  for (int trial = 0; trial < 5; ++trial) {
    std::shuffle(pairs.begin(), pairs.end(), rng);
    for (auto& p : pairs) {
      if (rng() % 2) std::swap(p.a, p.b);
    }
    EXPECT_EQ(cluster_pairs(pairs, scorer, options(Linkage::kAverage)), expected);
  }
}

TEST(Clusterer, InvalidOptionsFail) {
  EXPECT_THROW(cluster_pairs({}, nullptr, options(Linkage::kAverage, 0)), Error);
  EXPECT_THROW(cluster_pairs({}, nullptr, options(Linkage::kAverage, kMaxAverageCluster + 1)),
               Error);
  EXPECT_NO_THROW(
      cluster_pairs({}, nullptr, options(Linkage::kConnectedComponents, kMaxAverageCluster + 1)));
  ClusterOptions no_lookahead = options(Linkage::kAverage);
  no_lookahead.lookahead = 0;
  EXPECT_THROW(cluster_pairs({}, nullptr, no_lookahead), Error);
}

}  // namespace
}  // namespace doppel
