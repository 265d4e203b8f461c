// Clustering metrics: how well a predicted grouping of items matches the true grouping.
// Both inputs give one cluster id per item (same item order, equal lengths; Error otherwise).
// Ids are arbitrary labels; only equality matters.
#pragma once

#include <cstdint>
#include <span>

namespace doppel {

struct PairwiseClusterMetrics {
  // Over unordered item pairs: a predicted pair is two items with the same predicted id, a true
  // pair two with the same true id. Computed from contingency counts in O(n log n), not O(n^2).
  uint64_t predicted_pairs = 0;
  uint64_t true_pairs = 0;
  uint64_t correct_pairs = 0;  // pairs that are both
  double precision = 0;        // correct / predicted (0 when there are no predicted pairs)
  double recall = 0;           // correct / true (0 when there are no true pairs)
  double f1 = 0;
};

PairwiseClusterMetrics pairwise_cluster_metrics(std::span<const int64_t> predicted,
                                                std::span<const int64_t> truth);

// Shopee's per-item F1: for each item, F1 between the set of items in its predicted cluster and
// the set in its true cluster (both including the item itself, so a singleton prediction of an
// item in a true group of g has F1 2/(1+g)); the mean over items. 0 for empty input.
double per_item_f1(std::span<const int64_t> predicted, std::span<const int64_t> truth);

}  // namespace doppel
