#include "pipeline/pair_featurizer.h"

#include <algorithm>
#include <cmath>

#include "text/normalize.h"
#include "util/error.h"
#include "util/prefetch.h"

namespace doppel {
namespace {

// Listings prepared at once from which a team of threads pays: it costs more than preparing the
// few listings of an online request.
constexpr size_t kPrepareParallelFrom = 64;

// The classical encoder gives a listing without tokens a row of zeros: no vector at all, here.
std::vector<float> unless_zero(std::span<const float> vector) {
  if (std::all_of(vector.begin(), vector.end(), [](float v) { return v == 0; })) return {};
  return {vector.begin(), vector.end()};
}

}  // namespace

void PairFeaturizer::VectorColumn::load(const CatalogStore::VectorSet& set,
                                        const std::unordered_map<int64_t, size_t>& position,
                                        size_t n) {
  dim = set.dim;
  data.assign(n * static_cast<size_t>(dim), 0.0f);
  present.assign(n, 0);
  for (size_t r = 0; r < set.keys.size(); ++r) {
    auto it = position.find(set.keys[r]);
    if (it == position.end()) continue;
    std::copy_n(set.data.data() + r * dim, dim, data.data() + it->second * dim);
    present[it->second] = 1;
  }
}

void PairFeaturizer::VectorColumn::set(size_t i, std::span<const float> vector) {
  present[i] = !vector.empty();
  float* out = data.data() + i * dim;
  if (vector.empty())
    std::fill_n(out, dim, 0.0f);
  else
    std::copy(vector.begin(), vector.end(), out);
}

void PairFeaturizer::VectorColumn::append() {
  data.resize(data.size() + dim, 0.0f);
  present.push_back(0);
}

void PairFeaturizer::VectorColumn::move_last_to(size_t i) {
  const size_t last = present.size() - 1;
  if (i != last) {
    std::copy_n(data.data() + last * dim, dim, data.data() + i * dim);
    present[i] = present[last];
  }
  present.pop_back();
  data.resize(last * dim);
}

void PairFeaturizer::VectorColumn::check(std::span<const float> vector,
                                         const Listing& listing) const {
  if (!vector.empty() && vector.size() != static_cast<size_t>(dim))
    fail("listing '{}': {} vector has {} values, the catalog's have {}", listing.id, space,
         vector.size(), dim);
}

PairFeaturizer::PairFeaturizer(std::vector<Listing> listings, const ClassicalTextEncoder& classical,
                               const CatalogStore::VectorSet& text_vectors,
                               const CatalogStore::VectorSet& image_vectors, FeatureLayout layout)
    : classical_(&classical), listings_(std::move(listings)), layout_(layout) {
  const size_t n = listings_.size();
  position_.reserve(n);
  for (size_t i = 0; i < n; ++i) position_.emplace(listings_[i].key, i);
  prepared_.resize(n);
#pragma omp parallel for schedule(dynamic, 64) if (n >= kPrepareParallelFrom)
  for (size_t i = 0; i < n; ++i) prepared_[i] = prepare(listings_[i], /*with_classical=*/false);
  if (layout_.classical && !prepared_.empty()) {
    const auto dim = static_cast<size_t>(classical.dim());
    std::vector<float> vectors(n * dim);
    std::vector<const SparseVector*> tfidf(n);
    for (size_t i = 0; i < n; ++i) tfidf[i] = &prepared_[i].tfidf.vector;
    classical.encode_tfidf(tfidf, vectors.data());
    for (size_t i = 0; i < n; ++i)
      prepared_[i].classical = unless_zero(std::span<const float>(vectors).subspan(i * dim, dim));
  }
  text_.load(text_vectors, position_, n);
  image_.load(image_vectors, position_, n);
  layout_.text_dim = layout_.blocks && layout_.text ? text_.dim : 0;
  layout_.image_dim = layout_.blocks && layout_.image ? image_.dim : 0;
  layout_.validate();
  width_ = layout_.width();
}

PairFeaturizer::Prepared PairFeaturizer::prepare(const Listing& listing,
                                                 bool with_classical) const {
  const HashedTfidf& tfidf = classical_->tfidf();
  TokenWeight idf = [&tfidf](std::string_view token) {
    return tfidf.idf(tfidf.word_bucket(token));
  };
  Prepared prepared{make_profile(listing, idf),
                    NormedSparseVector(tfidf.transform(listing_text(listing))),
                    NormedSparseVector(tfidf.transform(listing.title)),
                    {}};
  if (with_classical && layout_.classical) {
    std::vector<float> vector(static_cast<size_t>(classical_->dim()));
    const SparseVector* tfidf_vector = &prepared.tfidf.vector;
    classical_->encode_tfidf(std::span(&tfidf_vector, 1), vector.data());
    prepared.classical = unless_zero(vector);
  }
  return prepared;
}

size_t PairFeaturizer::position(int64_t key) const {
  auto it = position_.find(key);
  if (it == position_.end()) fail("no listing with key {} in the catalog", key);
  return it->second;
}

std::vector<int64_t> PairFeaturizer::keys() const {
  std::vector<int64_t> out;
  out.reserve(listings_.size());
  for (const Listing& listing : listings_) out.push_back(listing.key);
  return out;
}

const float* PairFeaturizer::text_vector(int64_t key) const { return text_.row(position(key)); }

const float* PairFeaturizer::image_vector(int64_t key) const { return image_.row(position(key)); }

PairFeaturizer::Side PairFeaturizer::stored(size_t i) const {
  return {&prepared_[i], text_.row(i), image_.row(i)};
}

void PairFeaturizer::upsert(const Listing& listing, std::span<const float> text_vector,
                            std::span<const float> image_vector) {
  check_upsert(listing, text_vector, image_vector);
  store(listing, prepare(listing), text_vector, image_vector);
}

void PairFeaturizer::upsert(std::span<const Listing> listings,
                            const CatalogStore::VectorSet& text_vectors,
                            const CatalogStore::VectorSet& image_vectors) {
  std::unordered_map<int64_t, size_t> listing_of;
  for (size_t i = 0; i < listings.size(); ++i) listing_of.emplace(listings[i].key, i);
  const auto rows_by_key = [&](const CatalogStore::VectorSet& set) {
    std::vector<std::span<const float>> rows(listings.size());
    const auto dim = static_cast<size_t>(set.dim);
    for (size_t r = 0; r < set.keys.size(); ++r) {
      const auto it = listing_of.find(set.keys[r]);
      if (it != listing_of.end()) rows[it->second] = std::span(set.data).subspan(r * dim, dim);
    }
    return rows;
  };
  const auto text_rows = rows_by_key(text_vectors), image_rows = rows_by_key(image_vectors);
  for (size_t i = 0; i < listings.size(); ++i)
    check_upsert(listings[i], text_rows[i], image_rows[i]);
  std::vector<Prepared> prepared(listings.size());
#pragma omp parallel for schedule(dynamic, 16) if (listings.size() >= kPrepareParallelFrom)
  for (size_t i = 0; i < listings.size(); ++i) prepared[i] = prepare(listings[i]);
  for (size_t i = 0; i < listings.size(); ++i)
    store(listings[i], std::move(prepared[i]), text_rows[i], image_rows[i]);
}

void PairFeaturizer::check_upsert(const Listing& listing, std::span<const float> text_vector,
                                  std::span<const float> image_vector) const {
  DOPPEL_CHECK(listing.key >= 0, "listing '{}' has no key", listing.id);
  text_.check(text_vector, listing);
  image_.check(image_vector, listing);
}

void PairFeaturizer::store(const Listing& listing, Prepared prepared,
                           std::span<const float> text_vector,
                           std::span<const float> image_vector) {
  auto [it, added] = position_.emplace(listing.key, listings_.size());
  const size_t i = it->second;
  if (added) {
    listings_.push_back(listing);
    prepared_.push_back(std::move(prepared));
    text_.append();
    image_.append();
  } else {
    listings_[i] = listing;
    prepared_[i] = std::move(prepared);
  }
  text_.set(i, text_vector);
  image_.set(i, image_vector);
}

bool PairFeaturizer::remove(int64_t key) {
  auto it = position_.find(key);
  if (it == position_.end()) return false;
  const size_t i = it->second, last = listings_.size() - 1;
  position_.erase(it);
  if (i != last) {
    listings_[i] = std::move(listings_[last]);
    prepared_[i] = std::move(prepared_[last]);
    position_[listings_[i].key] = i;
  }
  listings_.pop_back();
  prepared_.pop_back();
  text_.move_last_to(i);
  image_.move_last_to(i);
  return true;
}

namespace {

float dot(const float* a, const float* b, int dim) {
  float sum = 0;
  for (int d = 0; d < dim; ++d) sum += a[d] * b[d];
  return sum;
}

// |a−b| then a∘b, element-wise, into out[0, 2·dim); NaN when either vector is missing.
float* vector_block(const float* a, const float* b, int dim, float* out) {
  for (int d = 0; d < dim; ++d) {
    out[d] = a && b ? std::fabs(a[d] - b[d]) : NAN;
    out[dim + d] = a && b ? a[d] * b[d] : NAN;
  }
  return out + 2 * dim;
}

}  // namespace

void PairFeaturizer::pair_row(const Side& a, const Side& b, float* out) const {
  const float text_cosine = a.text && b.text ? dot(a.text, b.text, text_.dim) : NAN;
  if (layout_.pair) {
    PairInputs inputs;
    inputs.tfidf_cosine = HashedTfidf::cosine(a.prepared->tfidf, b.prepared->tfidf);
    inputs.title_tfidf_cosine =
        HashedTfidf::cosine(a.prepared->title_tfidf, b.prepared->title_tfidf);
    inputs.vector_cosine = text_cosine;
    pair_features(a.prepared->profile, b.prepared->profile, inputs, out);
    out += kNumPairFeatures;
  } else if (layout_.text) {
    *out++ = text_cosine;
  }
  if (layout_.classical) {
    const auto& u = a.prepared->classical;
    const auto& v = b.prepared->classical;
    *out++ = u.empty() || v.empty() ? NAN : dot(u.data(), v.data(), static_cast<int>(u.size()));
  }
  if (layout_.image) {
    *out++ = a.image && b.image ? dot(a.image, b.image, image_.dim) : NAN;
    *out++ = static_cast<float>((a.image != nullptr) + (b.image != nullptr));
  }
  if (layout_.text_dim > 0) out = vector_block(a.text, b.text, layout_.text_dim, out);
  if (layout_.image_dim > 0) vector_block(a.image, b.image, layout_.image_dim, out);
}

void PairFeaturizer::prefetch_record(const Side& side) const {
  prefetch_bytes(side.prepared, sizeof(Prepared));
  prefetch_bytes(side.text, text_.dim * sizeof(float));
  prefetch_bytes(side.image, image_.dim * sizeof(float));
}

void PairFeaturizer::prefetch_arrays(const Prepared& prepared) {
  prepared.profile.prefetch();
  for (const NormedSparseVector* v : {&prepared.tfidf, &prepared.title_tfidf}) {
    prefetch_bytes(v->vector.index.data(), 1);
    prefetch_bytes(v->vector.value.data(), 1);
  }
}

template <typename PairSides>
std::vector<float> PairFeaturizer::rows(size_t n, const PairSides& pair_side) const {
  std::vector<float> out(n * width_);
  // A team of threads costs more than the few rows of an online match.
  constexpr size_t kParallelFrom = 256;
  // Pairs visit listings in an order caches do not follow (a dedup's candidates lie anywhere in
  // the catalog), and a side's data are spread over some twenty cache lines. So the loads of the
  // pair kRecordsAhead on (its records and vector rows) and of the pair kArraysAhead on (the
  // arrays those records point to, in cache by then) are started early, to overlap this pair's
  // work: 1.15-1.25x on the 99k synthetic workspace's features (docs/results.md).
  constexpr size_t kRecordsAhead = 16, kArraysAhead = 8;
#pragma omp parallel for schedule(dynamic, 512) if (n >= kParallelFrom)
  for (size_t p = 0; p < n; ++p) {
    if (p + kRecordsAhead < n) {
      const auto [a, b] = pair_side(p + kRecordsAhead);
      prefetch_record(a);
      prefetch_record(b);
    }
    if (p + kArraysAhead < n) {
      const auto [a, b] = pair_side(p + kArraysAhead);
      prefetch_arrays(*a.prepared);
      prefetch_arrays(*b.prepared);
    }
    auto [a, b] = pair_side(p);
    pair_row(a, b, out.data() + p * width_);
  }
  return out;
}

std::vector<float> PairFeaturizer::features(std::span<const KeyPair> pairs) const {
  std::vector<size_t> positions(2 * pairs.size());  // a, b of pair p at 2p, 2p + 1
  for (size_t p = 0; p < pairs.size(); ++p) {
    positions[2 * p] = position(pairs[p].first);
    positions[2 * p + 1] = position(pairs[p].second);
  }
  return rows(pairs.size(), [&](size_t p) {
    return std::pair{stored(positions[2 * p]), stored(positions[2 * p + 1])};
  });
}

std::vector<float> PairFeaturizer::features_against(
    const Listing& query, std::span<const float> query_vector, std::span<const int64_t> candidates,
    std::span<const float> query_image_vector) const {
  text_.check(query_vector, query);
  image_.check(query_image_vector, query);
  const Prepared prepared = prepare(query);
  const Side side{&prepared, query_vector.empty() ? nullptr : query_vector.data(),
                  query_image_vector.empty() ? nullptr : query_image_vector.data()};
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
