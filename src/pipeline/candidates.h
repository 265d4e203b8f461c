// Candidate generation: the nearest listings of each listing by vector and the listings that
// share a code with it, the only pairs the decider will ever look at in a dedup.
#pragma once

#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "catalog/catalog_store.h"
#include "catalog/listing.h"
#include "index/vector_index.h"
#include "pipeline/pair_featurizer.h"

namespace doppel {

struct Neighbour {
  int64_t key;
  float similarity;  // cosine
};

// Which vectors a search compares: the index must hold that space's vectors.
enum class Modality { kText, kImage };

// The k nearest other listings of each query key (the key itself excluded) by the vectors of
// `modality`, searched in batches with a progress bar. Keys without such a vector get no entry.
std::unordered_map<int64_t, std::vector<Neighbour>> nearest_neighbours(
    const VectorIndex& index, const PairFeaturizer& featurizer, std::span<const int64_t> keys,
    int k, Modality modality = Modality::kText);
// The same for the listings of `vectors` (rows of the space of `modality`), for a caller that
// has their vectors but not the listings.
std::unordered_map<int64_t, std::vector<Neighbour>> nearest_neighbours(
    const VectorIndex& index, const CatalogStore::VectorSet& vectors, int k,
    Modality modality = Modality::kText);

// More listings than this sharing a code (listing_codes, catalog/listing.h) make it too generic
// to mean one product ("i7-8550u", "pc4-21300" in a large catalog): it then gives no candidates.
constexpr size_t kMaxCodeGroup = 50;

// The keys of the stored listings that share a code of listing_codes(listing) (the listing's own
// key among them when it is stored), leaving out codes of more than kMaxCodeGroup listings;
// ascending, unique. One catalog.db lookup per code.
std::vector<int64_t> keys_sharing_a_code(const CatalogStore& catalog, const Listing& listing);

// The pairs of stored listings that share a code (keys_sharing_a_code) whose smaller key is one
// of `keys`: smaller key first, sorted, unique. Over blocks of keys that cover the catalog, they
// are every pair sharing an exact key once.
std::vector<KeyPair> exact_key_pairs(const CatalogStore& catalog, std::span<const int64_t> keys);

// The sorted union of candidate pair lists (each sorted unique, smaller key first).
std::vector<KeyPair> union_pairs(std::span<const std::vector<KeyPair>> lists);

// The distinct listings of `pairs`, ascending.
std::vector<int64_t> keys_of(std::span<const KeyPair> pairs);

// The index of `key` in `ascending` (sorted keys), or nullopt when it is not there.
std::optional<size_t> index_in(std::span<const int64_t> ascending, int64_t key);

// Share of `pairs` that are in `candidates` (sorted unique, smaller key first, as above).
double pair_recall(std::span<const KeyPair> pairs, std::span<const KeyPair> candidates);

// Unique unordered pairs (smaller key first, sorted) from the first `k` of each neighbour list
// (all of it by default).
std::vector<KeyPair> candidate_pairs(
    const std::unordered_map<int64_t, std::vector<Neighbour>>& neighbours,
    size_t k = std::numeric_limits<size_t>::max());

// Share of `pairs` found by the neighbour lists in either direction within the first k.
double candidate_recall(std::span<const KeyPair> pairs,
                        const std::unordered_map<int64_t, std::vector<Neighbour>>& neighbours,
                        int k);

}  // namespace doppel
