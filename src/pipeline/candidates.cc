#include "pipeline/candidates.h"

#include <algorithm>
#include <unordered_set>

#include "util/progress.h"

namespace doppel {

std::unordered_map<int64_t, std::vector<Neighbour>> nearest_neighbours(
    const VectorIndex& index, const PairFeaturizer& featurizer, std::span<const int64_t> keys,
    int k) {
  const int dim = featurizer.text_dim();
  std::vector<int64_t> queries;
  for (int64_t key : keys)
    if (featurizer.text_vector(key)) queries.push_back(key);

  std::unordered_map<int64_t, std::vector<Neighbour>> out;
  out.reserve(queries.size());
  constexpr size_t kBatch = 4096;
  const int fetch = k + 1;  // the listing itself comes back as its own nearest neighbour
  std::vector<float> batch(kBatch * dim), scores(kBatch * fetch);
  std::vector<int64_t> found(kBatch * fetch);
  Progress progress("candidates", queries.size());
  for (size_t start = 0; start < queries.size(); start += kBatch) {
    size_t n = std::min(kBatch, queries.size() - start);
    for (size_t i = 0; i < n; ++i)
      std::copy_n(featurizer.text_vector(queries[start + i]), dim, batch.data() + i * dim);
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

std::vector<KeyPair> candidate_pairs(
    const std::unordered_map<int64_t, std::vector<Neighbour>>& neighbours) {
  std::vector<KeyPair> pairs;
  for (const auto& [key, list] : neighbours)
    for (const auto& n : list) pairs.emplace_back(std::min(key, n.key), std::max(key, n.key));
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

}  // namespace doppel
