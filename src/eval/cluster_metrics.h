// Clustering metrics: how well a predicted grouping of items matches the true grouping.
// Both inputs give one cluster id per item (same item order, equal lengths; Error otherwise).
// Ids are arbitrary labels; only equality matters.
//
// Ground truth may cover only part of the items (the test groups of a catalog that was
// clustered whole): an item whose true id is kNotEvaluated is scored only as a member of the
// predicted clusters, where it costs precision whenever it shares a cluster with an evaluated
// item (an evaluated item's true group lies wholly among the evaluated items).
#pragma once

#include <cstdint>
#include <limits>
#include <span>

namespace doppel {

inline constexpr int64_t kNotEvaluated = std::numeric_limits<int64_t>::min();

struct PairwiseClusterMetrics {
  // Over unordered item pairs: a predicted pair is two items with the same predicted id (at least
  // one of them evaluated), a true pair two with the same true id. Computed from contingency
  // counts in O(n) expected time, not O(n^2).
  uint64_t predicted_pairs = 0;
  uint64_t true_pairs = 0;
  uint64_t correct_pairs = 0;  // pairs that are both
  double precision = 0;        // correct / predicted (0 when there are no predicted pairs)
  double recall = 0;           // correct / true (0 when there are no true pairs)
  double f1 = 0;
};

PairwiseClusterMetrics pairwise_cluster_metrics(std::span<const int64_t> predicted,
                                                std::span<const int64_t> truth);

// Shopee's per-item F1: for each evaluated item, F1 between the set of items in its predicted
// cluster and the set in its true cluster (both including the item itself, so a singleton
// prediction of an item in a true group of g has F1 2/(1+g)); the mean over the evaluated items
// whose true group has at least `min_true_size` items (2: duplicates only). 0 when there are none.
double per_item_f1(std::span<const int64_t> predicted, std::span<const int64_t> truth,
                   uint64_t min_true_size = 1);

}  // namespace doppel
