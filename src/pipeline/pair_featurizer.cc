#include "pipeline/pair_featurizer.h"

#include <algorithm>
#include <cmath>

#include "text/normalize.h"
#include "util/error.h"

namespace doppel {

PairFeaturizer::PairFeaturizer(std::vector<Listing> listings, const HashedTfidf& tfidf,
                               const CatalogStore::VectorSet& text_vectors)
    : listings_(std::move(listings)), text_dim_(text_vectors.dim) {
  const size_t n = listings_.size();
  position_.reserve(n);
  for (size_t i = 0; i < n; ++i) position_.emplace(listings_[i].key, i);
  profiles_.resize(n);
  tfidf_vectors_.resize(n);
  title_tfidf_vectors_.resize(n);
  TokenWeight idf = [&tfidf](std::string_view token) {
    return tfidf.idf(tfidf.word_bucket(token));
  };
#pragma omp parallel for schedule(dynamic, 256)
  for (size_t i = 0; i < n; ++i) {
    profiles_[i] = make_profile(listings_[i], idf);
    tfidf_vectors_[i] = tfidf.transform(listing_text(listings_[i]));
    title_tfidf_vectors_[i] = tfidf.transform(listings_[i].title);
  }
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

size_t PairFeaturizer::position(int64_t key) const {
  auto it = position_.find(key);
  if (it == position_.end()) fail("no listing with key {} in the catalog", key);
  return it->second;
}

const float* PairFeaturizer::text_vector(int64_t key) const {
  size_t i = position(key);
  return has_vector_[i] ? text_vectors_.data() + i * text_dim_ : nullptr;
}

std::vector<float> PairFeaturizer::features(std::span<const KeyPair> pairs) const {
  std::vector<float> out(pairs.size() * kNumPairFeatures);
  std::vector<std::pair<size_t, size_t>> positions(pairs.size());
  for (size_t p = 0; p < pairs.size(); ++p)
    positions[p] = {position(pairs[p].first), position(pairs[p].second)};
#pragma omp parallel for schedule(dynamic, 512)
  for (size_t p = 0; p < pairs.size(); ++p) {
    auto [i, j] = positions[p];
    PairInputs inputs;
    inputs.tfidf_cosine = HashedTfidf::cosine(tfidf_vectors_[i], tfidf_vectors_[j]);
    inputs.title_tfidf_cosine =
        HashedTfidf::cosine(title_tfidf_vectors_[i], title_tfidf_vectors_[j]);
    if (has_vector_[i] && has_vector_[j]) {
      const float* a = text_vectors_.data() + i * text_dim_;
      const float* b = text_vectors_.data() + j * text_dim_;
      float dot = 0;
      for (int d = 0; d < text_dim_; ++d) dot += a[d] * b[d];
      inputs.vector_cosine = dot;
    }
    pair_features(profiles_[i], profiles_[j], inputs, out.data() + p * kNumPairFeatures);
  }
  return out;
}

std::vector<float> score_pairs(const PairFeaturizer& featurizer, const Decider& decider,
                               std::span<const KeyPair> pairs) {
  if (pairs.empty()) return {};
  auto x = featurizer.features(pairs);
  return decider.predict(x.data(), pairs.size());
}

}  // namespace doppel
