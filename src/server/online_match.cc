#include "server/online_match.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <unordered_set>

#include "cluster/clusterer.h"
#include "pipeline/candidates.h"

namespace doppel {

std::vector<MatchCandidate> score_neighbours(const VectorIndex& index,
                                             const PairFeaturizer& featurizer,
                                             const Decider& decider, const Listing& query,
                                             std::span<const float> vector, int k, int64_t self,
                                             std::span<const float> image_vector) {
  const int fetch = k + (self >= 0 ? 1 : 0);
  std::vector<float> similarity(fetch);
  std::vector<int64_t> found(fetch);
  index.search(1, vector.data(), fetch, similarity.data(), found.data());
  std::vector<int64_t> keys;
  std::vector<float> kept_similarity;
  for (int i = 0; i < fetch && static_cast<int>(keys.size()) < k; ++i) {
    if (found[i] < 0 || found[i] == self || !featurizer.contains(found[i])) continue;
    keys.push_back(found[i]);
    kept_similarity.push_back(similarity[i]);
  }
  if (keys.empty()) return {};
  const auto x = featurizer.features_against(query, vector, keys, image_vector);
  const auto confidence = decider.predict(x.data(), keys.size());
  std::vector<MatchCandidate> out(keys.size());
  for (size_t i = 0; i < keys.size(); ++i)
    out[i] = {featurizer.listing(keys[i]), kept_similarity[i], confidence[i],
              confidence[i] >= decider.threshold()};
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.confidence > b.confidence; });
  return out;
}

std::vector<MatchCandidate> cluster_around(const VectorIndex& index,
                                           const PairFeaturizer& featurizer, const Decider& decider,
                                           int64_t key, const ClusterSearch& search) {
  std::vector<ScoredPair> scored;
  std::unordered_map<int64_t, float> confidence_with_key, similarity_with_key;
  std::unordered_set<int64_t> reached{key};
  std::deque<int64_t> frontier{key};
  while (!frontier.empty() && reached.size() < search.max_listings) {
    const int64_t from = frontier.front();
    frontier.pop_front();
    const float* vector = featurizer.text_vector(from);
    if (!vector) continue;
    const float* image = featurizer.image_vector(from);
    const auto neighbours = score_neighbours(
        index, featurizer, decider, featurizer.listing(from),
        std::span(vector, featurizer.text_dim()), search.k, from,
        image ? std::span(image, featurizer.image_dim()) : std::span<const float>());
    for (const auto& n : neighbours) {
      const int64_t to = n.listing.key;
      scored.push_back({from, to, n.confidence});
      if (from == key) {
        confidence_with_key[to] = n.confidence;
        similarity_with_key[to] = n.similarity;
      }
      if (n.match && reached.size() < search.max_listings && reached.insert(to).second)
        frontier.push_back(to);
    }
  }
  ClusterOptions options;
  options.threshold = decider.threshold();
  options.max_cluster_size = search.max_cluster_size;
  PairScorer scorer = [&](std::span<const KeyPair> pairs) {
    return score_pairs(featurizer, decider, pairs);
  };
  const auto cluster_of = cluster_pairs(scored, scorer, options);
  std::vector<MatchCandidate> members{{featurizer.listing(key), 1.0f, 1.0f, true}};
  const auto own = cluster_of.find(key);
  if (own == cluster_of.end()) return members;
  std::vector<int64_t> others;
  for (const auto& [member, cluster] : cluster_of)
    if (cluster == own->second && member != key) others.push_back(member);
  if (!others.empty()) {
    // Members reached through others were never scored against the listing itself.
    std::vector<KeyPair> unscored;
    for (int64_t member : others)
      if (!confidence_with_key.count(member)) unscored.emplace_back(key, member);
    const auto scores = score_pairs(featurizer, decider, unscored);
    for (size_t i = 0; i < unscored.size(); ++i)
      confidence_with_key[unscored[i].second] = scores[i];
  }
  for (int64_t member : others) {
    const float confidence = confidence_with_key[member];
    const auto similarity = similarity_with_key.find(member);
    members.push_back({featurizer.listing(member),
                       similarity == similarity_with_key.end() ? NAN : similarity->second,
                       confidence, confidence >= decider.threshold()});
  }
  std::stable_sort(members.begin() + 1, members.end(),
                   [](const auto& a, const auto& b) { return a.confidence > b.confidence; });
  return members;
}

std::vector<ReviewPair> uncertain_pairs(const VectorIndex& index, const PairFeaturizer& featurizer,
                                        const Decider& decider, std::span<const int64_t> keys,
                                        const std::set<KeyPair>& labelled, int k, size_t n) {
  auto pairs = candidate_pairs(nearest_neighbours(index, featurizer, keys, k));
  std::erase_if(pairs, [&](const KeyPair& p) { return labelled.count(p) != 0; });
  const auto confidence = score_pairs(featurizer, decider, pairs);
  const float threshold = decider.threshold();
  std::vector<size_t> order(pairs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  const size_t m = std::min(n, order.size());
  std::partial_sort(order.begin(), order.begin() + m, order.end(), [&](size_t x, size_t y) {
    return std::abs(confidence[x] - threshold) < std::abs(confidence[y] - threshold);
  });
  std::vector<ReviewPair> out;
  for (size_t i = 0; i < m; ++i) {
    const auto& [a, b] = pairs[order[i]];
    out.push_back({featurizer.listing(a), featurizer.listing(b), confidence[order[i]]});
  }
  return out;
}

}  // namespace doppel
