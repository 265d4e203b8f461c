// Clustering of scored pairs into groups of listings that are the same product, guarded against
// chaining: with plain connected components one wrong edge glues two unrelated groups, and a
// chain A~B~C joins A and C even when A and C clearly differ. Average linkage merges two groups
// only when they agree on average over all their cross pairs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

namespace doppel {

// A pair the decider scored; confidence in [0, 1]. Order of a and b does not matter.
struct ScoredPair {
  int64_t a, b;
  float confidence;
};

enum class Linkage {
  kConnectedComponents,  // plain union-find over accepted pairs, for comparison
  kAverage,              // default: mean confidence over all cross pairs must pass the threshold
};

// The largest max_cluster_size average linkage allows (the sums of a merge's cross pairs must fit
// 64 bits); a cluster that large would need billions of cross pairs scored anyway.
constexpr size_t kMaxAverageCluster = 65536;

struct ClusterOptions {
  float threshold = 0.5f;  // a pair is accepted when confidence >= threshold
  Linkage linkage = Linkage::kAverage;
  // No merge may create a larger group (both linkages); 1..kMaxAverageCluster with kAverage.
  size_t max_cluster_size = 200;
  // kAverage: how many accepted pairs ahead the scorer is asked for the cross pairs their merges
  // will need, in one batch (see PairScorer); >= 1. Only the batching changes with it, never a
  // cluster.
  size_t lookahead = 4096;
  bool show_progress = false;  // a progress bar over the accepted pairs (batch jobs)

  // Throws doppel::Error when a field is out of range.
  void validate() const;
};

// Confidences for a batch of key pairs (one per pair, in order), asked by average linkage for the
// cross pairs of two groups that are not in `pairs`. Batches are large, because the decider
// scores a batch far faster (and on more threads) than its pairs one by one: before the merges of
// the next ClusterOptions::lookahead accepted pairs are tried, the cross pairs those merges need
// as the groups stand are asked for in a few rounds, one call each; a merge whose first scores
// already decide it (each confidence lies in [0, 1]) is asked no more; then a merge whose groups
// grew in between asks for the rest itself, in one call. Each pair is asked at most once per
// cluster_pairs call (results are kept), and some may be asked that no merge ends up needing.
// NaN means "unknown" and counts as confidence 0
// in the mean (a pair nobody vouches for does not help a merge). An empty std::function is
// allowed: every unscored pair then counts as 0.
using PairScorer =
    std::function<std::vector<float>(std::span<const std::pair<int64_t, int64_t>> pairs)>;

// Groups items linked by accepted pairs (confidence >= threshold; NaN is never accepted).
// Accepted pairs are processed strongest first (ties by smaller keys first, so the result does
// not depend on input order). With kAverage, the groups of a and b merge only if the mean
// confidence over ALL cross pairs (known scores from `pairs` — the maximum when a pair is listed
// twice — the rest from `scorer`) is >= threshold; so a chain A~B~C with A≁C does not glue A and
// C. The mean is taken over confidences rounded to multiples of 2^-32, whose sum is exact in any
// order. With either linkage, a merge that would exceed max_cluster_size is skipped.
//
// Returns the cluster id of every key that appears in an accepted pair (a key whose merges were
// all refused is its own one-item cluster); the id is the smallest key of the cluster. Keys that
// are in no accepted pair are not in the map. Pairs with a == b are ignored.
std::unordered_map<int64_t, int64_t> cluster_pairs(std::span<const ScoredPair> pairs,
                                                   const PairScorer& scorer,
                                                   const ClusterOptions& options);

}  // namespace doppel
