// The read side of the online service, as plain functions over loaded models (no locking here;
// ServerState holds the lock): matching one listing, the cluster around a listing, and the
// uncertain pairs a reviewer should judge.
#pragma once

#include <set>
#include <span>
#include <vector>

#include "decide/decider.h"
#include "index/vector_index.h"
#include "pipeline/pair_featurizer.h"
#include "server/server_state.h"

namespace doppel {

// The k nearest listings to (query, its text vector) in `index`, scored by the decider, most
// confident first. The key `self` (a stored query's own key) is left out. `image_vector` is the
// query's image vector, or empty when it has none.
std::vector<MatchCandidate> score_neighbours(const VectorIndex& index,
                                             const PairFeaturizer& featurizer,
                                             const Decider& decider, const Listing& query,
                                             std::span<const float> vector, int k,
                                             int64_t self = -1,
                                             std::span<const float> image_vector = {});

struct ClusterSearch {
  int k = 10;                     // neighbours searched per listing reached
  size_t max_listings = 50;       // listings reached before the search stops
  size_t max_cluster_size = 200;  // as in `doppel dedup`
};
// The cluster of `key`: the listings reached from it along accepted pairs (breadth first,
// bounded by `search`), grouped with average linkage as `doppel dedup` does. The listing itself
// comes first (confidence 1), then the others by their confidence with it.
std::vector<MatchCandidate> cluster_around(const VectorIndex& index,
                                           const PairFeaturizer& featurizer, const Decider& decider,
                                           int64_t key, const ClusterSearch& search);

// Up to n candidate pairs among the neighbours of `keys` (k each) that are not in `labelled`,
// closest to the decider's threshold first.
std::vector<ReviewPair> uncertain_pairs(const VectorIndex& index, const PairFeaturizer& featurizer,
                                        const Decider& decider, std::span<const int64_t> keys,
                                        const std::set<KeyPair>& labelled, int k, size_t n);

}  // namespace doppel
