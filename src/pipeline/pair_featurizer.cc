#include "pipeline/pair_featurizer.h"

#include <algorithm>
#include <cmath>

#include "text/normalize.h"
#include "util/error.h"

namespace doppel {

PairFeaturizer::PairFeaturizer(std::vector<Listing> listings, const HashedTfidf& tfidf,
                               const CatalogStore::VectorSet& text_vectors)
    : tfidf_(&tfidf), listings_(std::move(listings)), text_dim_(text_vectors.dim) {
  const size_t n = listings_.size();
  position_.reserve(n);
  for (size_t i = 0; i < n; ++i) position_.emplace(listings_[i].key, i);
  prepared_.resize(n);
#pragma omp parallel for schedule(dynamic, 256)
  for (size_t i = 0; i < n; ++i) prepared_[i] = prepare(listings_[i]);
  has_vector_.assign(n, 0);
  text_vectors_.assign(n * static_cast<size_t>(text_dim_), 0.0f);
  for (size_t r = 0; r < text_vectors.keys.size(); ++r) {
    auto it = position_.find(text_vectors.keys[r]);
    if (it == position_.end()) continue;
    std::copy_n(text_vectors.data.data() + r * text_dim_, text_dim_,
                text_vectors_.data() + it->second * text_dim_);
    has_vector_[it->second] = 1;
  }
}

PairFeaturizer::Prepared PairFeaturizer::prepare(const Listing& listing) const {
  TokenWeight idf = [this](std::string_view token) {
    return tfidf_->idf(tfidf_->word_bucket(token));
  };
  return {make_profile(listing, idf), tfidf_->transform(listing_text(listing)),
          tfidf_->transform(listing.title)};
}

size_t PairFeaturizer::position(int64_t key) const {
  auto it = position_.find(key);
  if (it == position_.end()) fail("no listing with key {} in the catalog", key);
  return it->second;
}

const float* PairFeaturizer::text_vector(int64_t key) const {
  size_t i = position(key);
  return has_vector_[i] ? text_vectors_.data() + i * text_dim_ : nullptr;
}

PairFeaturizer::Side PairFeaturizer::stored(size_t i) const {
  return {&prepared_[i], has_vector_[i] ? text_vectors_.data() + i * text_dim_ : nullptr};
}

void PairFeaturizer::check_vector_size(std::span<const float> vector,
                                       const Listing& listing) const {
  if (!vector.empty() && vector.size() != static_cast<size_t>(text_dim_))
    fail("listing '{}': text vector has {} values, the catalog's have {}", listing.id,
         vector.size(), text_dim_);
}

void PairFeaturizer::upsert(const Listing& listing, std::span<const float> text_vector) {
  DOPPEL_CHECK(listing.key >= 0, "listing '{}' has no key", listing.id);
  check_vector_size(text_vector, listing);
  Prepared prepared = prepare(listing);
  auto [it, added] = position_.emplace(listing.key, listings_.size());
  const size_t i = it->second;
  if (added) {
    listings_.push_back(listing);
    prepared_.push_back(std::move(prepared));
    has_vector_.push_back(0);
    text_vectors_.resize(text_vectors_.size() + text_dim_, 0.0f);
  } else {
    listings_[i] = listing;
    prepared_[i] = std::move(prepared);
  }
  has_vector_[i] = !text_vector.empty();
  float* row = text_vectors_.data() + i * text_dim_;
  if (text_vector.empty())
    std::fill_n(row, text_dim_, 0.0f);
  else
    std::copy(text_vector.begin(), text_vector.end(), row);
}

bool PairFeaturizer::remove(int64_t key) {
  auto it = position_.find(key);
  if (it == position_.end()) return false;
  const size_t i = it->second, last = listings_.size() - 1;
  position_.erase(it);
  if (i != last) {
    listings_[i] = std::move(listings_[last]);
    prepared_[i] = std::move(prepared_[last]);
    has_vector_[i] = has_vector_[last];
    std::copy_n(text_vectors_.data() + last * text_dim_, text_dim_,
                text_vectors_.data() + i * text_dim_);
    position_[listings_[i].key] = i;
  }
  listings_.pop_back();
  prepared_.pop_back();
  has_vector_.pop_back();
  text_vectors_.resize(last * text_dim_);
  return true;
}

void PairFeaturizer::pair_row(const Side& a, const Side& b, float* out) const {
  PairInputs inputs;
  inputs.tfidf_cosine = HashedTfidf::cosine(a.prepared->tfidf, b.prepared->tfidf);
  inputs.title_tfidf_cosine =
      HashedTfidf::cosine(a.prepared->title_tfidf, b.prepared->title_tfidf);
  if (a.vector && b.vector) {
    float dot = 0;
    for (int d = 0; d < text_dim_; ++d) dot += a.vector[d] * b.vector[d];
    inputs.vector_cosine = dot;
  }
  pair_features(a.prepared->profile, b.prepared->profile, inputs, out);
}

template <typename PairSides>
std::vector<float> PairFeaturizer::rows(size_t n, const PairSides& pair_side) const {
  std::vector<float> out(n * kNumPairFeatures);
  // A team of threads costs more than the few rows of an online match.
  constexpr size_t kParallelFrom = 256;
#pragma omp parallel for schedule(dynamic, 512) if (n >= kParallelFrom)
  for (size_t p = 0; p < n; ++p) {
    auto [a, b] = pair_side(p);
    pair_row(a, b, out.data() + p * kNumPairFeatures);
  }
  return out;
}

std::vector<float> PairFeaturizer::features(std::span<const KeyPair> pairs) const {
  std::vector<std::pair<size_t, size_t>> positions(pairs.size());
  for (size_t p = 0; p < pairs.size(); ++p)
    positions[p] = {position(pairs[p].first), position(pairs[p].second)};
  return rows(pairs.size(), [&](size_t p) {
    return std::pair{stored(positions[p].first), stored(positions[p].second)};
  });
}

std::vector<float> PairFeaturizer::features_against(const Listing& query,
                                                    std::span<const float> query_vector,
                                                    std::span<const int64_t> candidates) const {
  check_vector_size(query_vector, query);
  const Prepared prepared = prepare(query);
  const Side side{&prepared, query_vector.empty() ? nullptr : query_vector.data()};
  std::vector<size_t> positions(candidates.size());
  for (size_t p = 0; p < candidates.size(); ++p) positions[p] = position(candidates[p]);
  return rows(candidates.size(), [&](size_t p) { return std::pair{side, stored(positions[p])}; });
}

std::vector<float> score_pairs(const PairFeaturizer& featurizer, const Decider& decider,
                               std::span<const KeyPair> pairs) {
  if (pairs.empty()) return {};
  auto x = featurizer.features(pairs);
  return decider.predict(x.data(), pairs.size());
}

}  // namespace doppel
