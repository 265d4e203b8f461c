// Retrieval metrics for labelled queries against a labelled gallery, exact and brute force:
// every query is ranked against every gallery item by a distance (smaller = closer).
//
// - R@k: the fraction of queries with at least one same-label item among the first k.
// - mAP: the mean over queries of average precision, AP = mean over the query's same-label
//   gallery items of (same-label items ranked up to it) / (its rank). With a single relevant item
//   (a photo against one catalogue image per product) AP is 1 / rank.
//
// Ties are counted against the query: a same-label item ranks after every other-label item at the
// same distance. A feature that cannot tell images apart (a constant hash, a coarse distance) thus
// earns nothing from the order in which the gallery happens to be stored. NaN distances rank last.
// Queries without any same-label gallery item are left out of all three figures.
#pragma once

#include <cstddef>
#include <functional>
#include <span>

namespace doppel {

struct RetrievalScores {
  double recall_at_1 = 0;
  double recall_at_5 = 0;
  double mean_average_precision = 0;
  size_t queries = 0;  // queries scored (those with at least one same-label gallery item)
};

// distance(q, g) for query q and gallery item g.
using PairDistance = std::function<float(size_t query, size_t gallery)>;

// exclude_self: queries and gallery are the same list (leave-one-out) and item i is left out of
// query i's ranking; then query_labels.size() must equal gallery_labels.size().
RetrievalScores retrieval_scores(const PairDistance& distance, std::span<const int> query_labels,
                                 std::span<const int> gallery_labels, bool exclude_self = false);

// The same from a precomputed row-major query × gallery distance matrix.
RetrievalScores retrieval_scores(std::span<const float> distances,
                                 std::span<const int> query_labels,
                                 std::span<const int> gallery_labels, bool exclude_self = false);

}  // namespace doppel
