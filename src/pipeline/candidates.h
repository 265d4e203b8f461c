// Candidate generation: the nearest listings of each listing by vector, the only pairs the
// decider will ever look at in a dedup.
#pragma once

#include <span>
#include <unordered_map>
#include <vector>

#include "index/vector_index.h"
#include "pipeline/pair_featurizer.h"

namespace doppel {

struct Neighbour {
  int64_t key;
  float similarity;  // cosine
};

// The k nearest other listings of each query key (the key itself excluded), searched in batches
// with a progress bar. Keys without a stored vector get no entry.
std::unordered_map<int64_t, std::vector<Neighbour>> nearest_neighbours(
    const VectorIndex& index, const PairFeaturizer& featurizer, std::span<const int64_t> keys,
    int k);

// Unique unordered pairs (smaller key first) from neighbour lists.
std::vector<KeyPair> candidate_pairs(
    const std::unordered_map<int64_t, std::vector<Neighbour>>& neighbours);

// Share of `pairs` found by the neighbour lists in either direction within the first k.
double candidate_recall(std::span<const KeyPair> pairs,
                        const std::unordered_map<int64_t, std::vector<Neighbour>>& neighbours,
                        int k);

}  // namespace doppel
