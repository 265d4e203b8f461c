// PairFeaturizer — decider features for any two listings of a catalog. The per-listing work
// (profiles, TF-IDF vectors, the text vector) is done once up front, so a pair costs only the
// comparisons; batches of pairs are computed in parallel.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "catalog/catalog_store.h"
#include "catalog/listing.h"
#include "decide/decider.h"
#include "decide/pair_features.h"
#include "text/tfidf.h"

namespace doppel {

using KeyPair = std::pair<int64_t, int64_t>;

class PairFeaturizer {
 public:
  // `tfidf` must outlive the featurizer. `text_vectors` may be empty (dim 0): the vector cosine
  // feature is then missing (NaN) for every pair.
  PairFeaturizer(std::vector<Listing> listings, const HashedTfidf& tfidf,
                 const CatalogStore::VectorSet& text_vectors);

  size_t size() const { return listings_.size(); }
  bool contains(int64_t key) const { return position_.count(key) != 0; }
  // Error naming the key when the catalog has no such listing.
  const Listing& listing(int64_t key) const { return listings_[position(key)]; }
  const std::vector<Listing>& listings() const { return listings_; }
  // The stored text vector of a listing, or nullptr when it has none.
  const float* text_vector(int64_t key) const;
  int text_dim() const { return text_dim_; }

  // pairs.size() rows of kNumPairFeatures floats, row-major.
  std::vector<float> features(std::span<const KeyPair> pairs) const;

 private:
  size_t position(int64_t key) const;

  std::vector<Listing> listings_;
  std::unordered_map<int64_t, size_t> position_;
  std::vector<ListingProfile> profiles_;
  std::vector<SparseVector> tfidf_vectors_;        // listing_text: title, brand, model, description
  std::vector<SparseVector> title_tfidf_vectors_;  // the title alone
  std::vector<float> text_vectors_;  // listings_.size() × text_dim_, zero rows when missing
  std::vector<uint8_t> has_vector_;
  int text_dim_ = 0;
};

// Decider confidence for each pair, in the order given.
std::vector<float> score_pairs(const PairFeaturizer& featurizer, const Decider& decider,
                               std::span<const KeyPair> pairs);

}  // namespace doppel
