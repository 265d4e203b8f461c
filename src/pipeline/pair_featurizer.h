// PairFeaturizer — decider features for any two listings of a catalog, or for a new listing
// against listings of the catalog. The per-listing work (profiles, TF-IDF vectors) is done once,
// when a listing is loaded or upserted, so a pair costs only the comparisons. Large batches of
// pairs are computed in parallel. A featurizer may hold the whole catalog (batch jobs) or just
// the few listings one online request reads (the server fetches them from catalog.db).
//
// Not thread-safe for writes (upsert, remove): a caller that mixes them with feature calls from
// other threads must hold a readers-writer lock.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "catalog/catalog_store.h"
#include "catalog/listing.h"
#include "decide/decider.h"
#include "decide/pair_features.h"
#include "pipeline/feature_layout.h"
#include "text/classical_encoder.h"
#include "text/tfidf.h"

namespace doppel {

using KeyPair = std::pair<int64_t, int64_t>;

class PairFeaturizer {
 public:
  // `classical` must outlive the featurizer: its TF-IDF weighs the pair features' tokens, and it
  // encodes every listing when the layout has the classical cosine. `text_vectors` and
  // `image_vectors` may be empty (dim 0), and need not cover every listing: a listing without a
  // vector gets NaN for the features that need it. Rows have the columns of `layout`
  // (feature_layout.h), whose block dims are taken from the vectors.
  PairFeaturizer(std::vector<Listing> listings, const ClassicalTextEncoder& classical,
                 const CatalogStore::VectorSet& text_vectors,
                 const CatalogStore::VectorSet& image_vectors = {}, FeatureLayout layout = {});

  size_t size() const { return listings_.size(); }
  bool contains(int64_t key) const { return position_.count(key) != 0; }
  // Error naming the key when the catalog has no such listing.
  const Listing& listing(int64_t key) const { return listings_[position(key)]; }
  // In key order as loaded; upserted listings are appended, and a removal moves the last listing
  // into the gap.
  const std::vector<Listing>& listings() const { return listings_; }
  std::vector<int64_t> keys() const;  // the listings' keys, in the order of listings()
  // The stored text (image) vector of a listing, or nullptr when it has none.
  const float* text_vector(int64_t key) const;
  const float* image_vector(int64_t key) const;
  int text_dim() const { return text_.dim; }
  int image_dim() const { return image_.dim; }
  const FeatureLayout& layout() const { return layout_; }
  int width() const { return width_; }  // features per pair

  // Adds a listing (listing.key must be set) or replaces the one with its key. Each vector has
  // the space's dim floats, or is empty when the listing has none. Error on another size.
  void upsert(const Listing& listing, std::span<const float> text_vector,
              std::span<const float> image_vector = {});
  // The same for many listings, prepared in parallel when there are many. A listing's vectors
  // are its key's rows of the sets, or none when a set has no row for it.
  void upsert(std::span<const Listing> listings, const CatalogStore::VectorSet& text_vectors,
              const CatalogStore::VectorSet& image_vectors = {});
  // Drops the listing with this key; false when there was none.
  bool remove(int64_t key);

  // pairs.size() rows of width() floats, row-major.
  std::vector<float> features(std::span<const KeyPair> pairs) const;
  // Features of (query, candidate) for each candidate key, as rows like features(): for a listing
  // that is not in the catalog (an online match). Vectors as in upsert().
  std::vector<float> features_against(const Listing& query, std::span<const float> query_vector,
                                      std::span<const int64_t> candidates,
                                      std::span<const float> query_image_vector = {}) const;

 private:
  // What pair features need of one listing, computed once.
  struct Prepared {
    ListingProfile profile;
    NormedSparseVector tfidf;        // listing_text: title, brand, model, description
    NormedSparseVector title_tfidf;  // the title alone
    std::vector<float> classical;  // the classical dense vector (layout.classical only); empty
                                   // when the listing has no tokens
  };
  // The vectors of one space, one row per listing position (zero rows when missing).
  struct VectorColumn {
    explicit VectorColumn(std::string_view name) : space(name) {}
    std::string_view space;
    int dim = 0;
    std::vector<float> data;
    std::vector<uint8_t> present;
    void load(const CatalogStore::VectorSet& set,
              const std::unordered_map<int64_t, size_t>& position, size_t n);
    const float* row(size_t i) const { return present[i] ? data.data() + i * dim : nullptr; }
    void set(size_t i, std::span<const float> vector);  // empty: none
    void append();
    void move_last_to(size_t i);
    void check(std::span<const float> vector, const Listing& listing) const;
  };
  // One side of a pair: a stored listing or a query.
  struct Side {
    const Prepared* prepared;
    const float* text;   // text_.dim floats, or nullptr
    const float* image;  // image_.dim floats, or nullptr
  };
  // Everything but the classical vector when `with_classical` is false (the constructor encodes
  // those in one batch).
  Prepared prepare(const Listing& listing, bool with_classical = true) const;
  // Error unless the listing has a key and each vector is empty or of its space's dim.
  void check_upsert(const Listing& listing, std::span<const float> text_vector,
                    std::span<const float> image_vector) const;
  // Adds or replaces a listing already prepared, its vectors checked.
  void store(const Listing& listing, Prepared prepared, std::span<const float> text_vector,
             std::span<const float> image_vector);
  size_t position(int64_t key) const;
  Side stored(size_t position) const;
  // Fills n rows of features, row p from pair_side(p) = (a, b), in parallel when n is large.
  template <typename PairSides>
  std::vector<float> rows(size_t n, const PairSides& pair_side) const;
  // Start loading what pair_row reads of a side, before it is needed: its record and vector rows
  // (prefetch_record), then the arrays the record points to (prefetch_arrays).
  void prefetch_record(const Side& side) const;
  static void prefetch_arrays(const Prepared& prepared);
  void pair_row(const Side& a, const Side& b, float* out) const;

  const ClassicalTextEncoder* classical_;
  std::vector<Listing> listings_;
  std::unordered_map<int64_t, size_t> position_;
  std::vector<Prepared> prepared_;  // one per listing position
  VectorColumn text_{"text"};
  VectorColumn image_{"image"};
  FeatureLayout layout_;
  int width_ = 0;
};

// Decider confidence for each pair, in the order given. The featurizer's layout must be the
// decider's (both come from MatchModels::load).
std::vector<float> score_pairs(const PairFeaturizer& featurizer, const Decider& decider,
                               std::span<const KeyPair> pairs);

}  // namespace doppel
