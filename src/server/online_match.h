// The read side of the online service, as plain functions over loaded models (no locking here;
// ServerState holds the lock): matching one listing, the cluster around a listing, and the
// uncertain pairs a reviewer should judge. They read stored listings through a ListingFetch,
// a few at a time, never the whole catalog.
#pragma once

#include <functional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "decide/decider.h"
#include "index/vector_index.h"
#include "pipeline/pair_featurizer.h"

namespace doppel {

// The searches that found a candidate (a bit set).
enum CandidateSource : unsigned {
  kFoundByText = 1u,
  kFoundByImage = 2u,
  kFoundByCode = 4u,  // a code it shares with the query (listing_codes, catalog/listing.h)
};

struct MatchCandidate {
  Listing listing;
  float similarity = 0;        // cosine of the text vectors (NaN when one is missing)
  float image_similarity = 0;  // cosine of the image vectors (NaN when one is missing)
  float confidence = 0;        // decider
  bool match = false;          // confidence >= threshold
  unsigned sources = 0;        // CandidateSource bits; 0 for cluster members
};

// A candidate pair for a human to judge.
struct ReviewPair {
  Listing a, b;
  float confidence = 0;
};

// The stored listings of `keys` with their vectors, ready to be featurised in the decider's
// layout; keys of no stored listing (removed since the index found them) are left out.
using ListingFetch = std::function<PairFeaturizer(std::span<const int64_t> keys)>;

// The stored listings that share one of a listing's codes (listing_codes, catalog/listing.h),
// leaving out codes shared by more than kMaxCodeGroup listings.
using CodeLookup = std::function<std::vector<int64_t>(const Listing& listing)>;

// Where candidates come from: the text index always, the image index when one is kept, and the
// listings by code when given.
struct CandidateIndexes {
  const VectorIndex& text;
  const VectorIndex* image = nullptr;
  CodeLookup codes;
};

// A listing to find candidates for, with its vectors.
struct MatchQuery {
  const Listing& listing;
  std::span<const float> text_vector;
  std::span<const float> image_vector;  // empty when it has no photo
  int k = 10;                           // nearest by text
  int image_k = 10;                     // nearest by image (with an image vector and index)
  int64_t self = -1;                    // a stored query's own key, left out
};

// The k nearest listings by text ∪ the image_k nearest by image ∪ those sharing a code with the
// query (the union `doppel dedup` takes): their keys with the CandidateSource bits of
// the searches that found each. Reads the indexes (a caller's lock must cover this call only).
using FoundKeys = std::vector<std::pair<int64_t, unsigned>>;
FoundKeys find_candidates(const CandidateIndexes& indexes, const MatchQuery& query);

// The found listings (those still stored), each scored by the decider, most confident first;
// each candidate says which sources found it and carries both cosines. Reads catalog.db only.
std::vector<MatchCandidate> score_candidates(const ListingFetch& fetch, const Decider& decider,
                                             const MatchQuery& query, FoundKeys found);

// score_candidates(find_candidates(...)).
std::vector<MatchCandidate> score_neighbours(const CandidateIndexes& indexes,
                                             const ListingFetch& fetch, const Decider& decider,
                                             const MatchQuery& query);

struct ClusterSearch {
  int k = 10;                     // neighbours searched per listing reached
  size_t max_listings = 50;       // listings reached before the search stops
  size_t max_cluster_size = 200;  // as in `doppel dedup`
};
// The cluster of `key`: the listings reached from it along accepted pairs (breadth first, each
// listing's candidates by text and, with an image index and vector, by image; bounded by `search`),
// grouped with average linkage as `doppel dedup` does. The listing itself comes first (confidence
// 1), then the others by their confidence with it. Empty when `key` is no stored listing.
std::vector<MatchCandidate> cluster_around(const CandidateIndexes& indexes,
                                           const ListingFetch& fetch, const Decider& decider,
                                           int64_t key, const ClusterSearch& search);

// The pairs among `pairs` (smaller key first) that carry no stored label, in the given order.
using UnlabelledFilter = std::function<std::vector<KeyPair>(std::span<const KeyPair> pairs)>;

// Up to n unlabelled candidate pairs among the neighbours of `keys` (k each), closest to the
// decider's threshold first.
std::vector<ReviewPair> uncertain_pairs(const VectorIndex& index, const ListingFetch& fetch,
                                        const Decider& decider, std::span<const int64_t> keys,
                                        const UnlabelledFilter& unlabelled, int k, size_t n);

}  // namespace doppel
