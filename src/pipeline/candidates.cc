#include "pipeline/candidates.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <unordered_set>

#include "util/progress.h"

namespace doppel {

namespace {

// The k nearest other listings of each query key by its vector (dim floats at vector_at(i) for
// queries[i]), searched in batches with a progress bar.
template <typename VectorAt>
std::unordered_map<int64_t, std::vector<Neighbour>> search_neighbours(
    const VectorIndex& index, std::span<const int64_t> queries, const VectorAt& vector_at, int dim,
    int k, Modality modality) {
  const bool text = modality == Modality::kText;
  std::unordered_map<int64_t, std::vector<Neighbour>> out;
  out.reserve(queries.size());
  constexpr size_t kBatch = 4096;
  const int fetch = k + 1;  // the listing itself comes back as its own nearest neighbour
  std::vector<float> batch(kBatch * dim), scores(kBatch * fetch);
  std::vector<int64_t> found(kBatch * fetch);
  Progress progress(text ? "candidates by text" : "candidates by image", queries.size());
  for (size_t start = 0; start < queries.size(); start += kBatch) {
    size_t n = std::min(kBatch, queries.size() - start);
    for (size_t i = 0; i < n; ++i) std::copy_n(vector_at(start + i), dim, batch.data() + i * dim);
    index.search(n, batch.data(), fetch, scores.data(), found.data());
    for (size_t i = 0; i < n; ++i) {
      auto& list = out[queries[start + i]];
      for (int j = 0; j < fetch && static_cast<int>(list.size()) < k; ++j) {
        int64_t key = found[i * fetch + j];
        if (key < 0 || key == queries[start + i]) continue;
        list.push_back({key, scores[i * fetch + j]});
      }
    }
    progress.advance(n);
  }
  progress.finish();
  return out;
}

}  // namespace

std::unordered_map<int64_t, std::vector<Neighbour>> nearest_neighbours(
    const VectorIndex& index, const PairFeaturizer& featurizer, std::span<const int64_t> keys,
    int k, Modality modality) {
  const bool text = modality == Modality::kText;
  const auto vector_of = [&](int64_t key) {
    return text ? featurizer.text_vector(key) : featurizer.image_vector(key);
  };
  std::vector<int64_t> queries;
  for (int64_t key : keys)
    if (vector_of(key)) queries.push_back(key);
  return search_neighbours(
      index, queries, [&](size_t i) { return vector_of(queries[i]); },
      text ? featurizer.text_dim() : featurizer.image_dim(), k, modality);
}

std::unordered_map<int64_t, std::vector<Neighbour>> nearest_neighbours(
    const VectorIndex& index, const CatalogStore::VectorSet& vectors, int k, Modality modality) {
  const auto vector_at = [&](size_t i) {
    return vectors.data.data() + i * static_cast<size_t>(vectors.dim);
  };
  return search_neighbours(index, vectors.keys, vector_at, vectors.dim, k, modality);
}

std::vector<KeyPair> candidate_pairs(
    const std::unordered_map<int64_t, std::vector<Neighbour>>& neighbours, size_t k) {
  std::vector<KeyPair> pairs;
  for (const auto& [key, list] : neighbours)
    for (size_t i = 0; i < std::min(k, list.size()); ++i)
      pairs.emplace_back(std::min(key, list[i].key), std::max(key, list[i].key));
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  return pairs;
}

double candidate_recall(std::span<const KeyPair> pairs,
                        const std::unordered_map<int64_t, std::vector<Neighbour>>& neighbours,
                        int k) {
  if (pairs.empty()) return 0.0;
  auto within_k = [&](int64_t from, int64_t to) {
    auto it = neighbours.find(from);
    if (it == neighbours.end()) return false;
    size_t limit = std::min<size_t>(it->second.size(), static_cast<size_t>(k));
    for (size_t i = 0; i < limit; ++i)
      if (it->second[i].key == to) return true;
    return false;
  };
  size_t found = 0;
  for (const auto& [a, b] : pairs) found += within_k(a, b) || within_k(b, a);
  return static_cast<double>(found) / pairs.size();
}

std::vector<int64_t> keys_sharing_a_code(const CatalogStore& catalog, const Listing& listing) {
  std::vector<int64_t> keys;
  for (const std::string& code : listing_codes(listing)) {
    const auto group = catalog.keys_with_code(code, kMaxCodeGroup + 1);
    if (group.size() <= kMaxCodeGroup) keys.insert(keys.end(), group.begin(), group.end());
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

std::vector<KeyPair> exact_key_pairs(const CatalogStore& catalog, std::span<const int64_t> keys) {
  std::vector<KeyPair> pairs;
  for (const Listing& listing : catalog.get_by_keys(keys)) {
    for (int64_t other : keys_sharing_a_code(catalog, listing))
      if (other > listing.key) pairs.emplace_back(listing.key, other);
  }
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  return pairs;
}

std::vector<int64_t> keys_of(std::span<const KeyPair> pairs) {
  std::vector<int64_t> keys;
  keys.reserve(2 * pairs.size());
  for (const auto& [a, b] : pairs) {
    keys.push_back(a);
    keys.push_back(b);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

std::optional<size_t> index_in(std::span<const int64_t> ascending, int64_t key) {
  const auto at = std::lower_bound(ascending.begin(), ascending.end(), key);
  if (at == ascending.end() || *at != key) return std::nullopt;
  return static_cast<size_t>(at - ascending.begin());
}

std::vector<KeyPair> union_pairs(std::span<const std::vector<KeyPair>> lists) {
  std::vector<KeyPair> out;
  for (const auto& list : lists) {
    std::vector<KeyPair> merged;
    merged.reserve(out.size() + list.size());
    std::set_union(out.begin(), out.end(), list.begin(), list.end(), std::back_inserter(merged));
    out = std::move(merged);
  }
  return out;
}

double pair_recall(std::span<const KeyPair> pairs, std::span<const KeyPair> candidates) {
  if (pairs.empty()) return 0.0;
  size_t found = 0;
  for (auto [a, b] : pairs) {
    const KeyPair ordered{std::min(a, b), std::max(a, b)};
    found += std::binary_search(candidates.begin(), candidates.end(), ordered);
  }
  return static_cast<double>(found) / pairs.size();
}

}  // namespace doppel
