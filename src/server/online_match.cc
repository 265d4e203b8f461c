#include "server/online_match.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <unordered_set>

#include "cluster/clusterer.h"
#include "pipeline/candidates.h"

namespace doppel {

namespace {

void mark(FoundKeys& found, int64_t key, CandidateSource source) {
  auto it = std::find_if(found.begin(), found.end(), [&](const auto& f) { return f.first == key; });
  if (it == found.end()) it = found.insert(found.end(), {key, 0u});
  it->second |= source;
}

// Adds the keys `index` finds nearest to `vector` (up to k besides `self`) to `found`, marking
// them with `source`.
void search_into(const VectorIndex& index, std::span<const float> vector, int k, int64_t self,
                 CandidateSource source, FoundKeys& found) {
  const int fetch = k + (self >= 0 ? 1 : 0);
  std::vector<float> scores(fetch);
  std::vector<int64_t> keys(fetch);
  index.search(1, vector.data(), fetch, scores.data(), keys.data());
  int taken = 0;
  for (int i = 0; i < fetch && taken < k; ++i) {
    if (keys[i] < 0 || keys[i] == self) continue;
    ++taken;
    mark(found, keys[i], source);
  }
}

// The cosine of two dim-d unit vectors; NaN when either is missing.
float cosine(const float* a, const float* b, int dim) {
  if (!a || !b) return NAN;
  float dot = 0;
  for (int i = 0; i < dim; ++i) dot += a[i] * b[i];
  return dot;
}
float cosine(std::span<const float> query, const float* stored) {
  return cosine(query.empty() ? nullptr : query.data(), stored, static_cast<int>(query.size()));
}

// The pairs whose two listings `stored` holds.
std::vector<KeyPair> held_pairs(const PairFeaturizer& stored, std::span<const KeyPair> pairs) {
  std::vector<KeyPair> out;
  for (const auto& pair : pairs)
    if (stored.contains(pair.first) && stored.contains(pair.second)) out.push_back(pair);
  return out;
}

// Decider confidence for each pair; 0 for a pair with a listing removed since it was found.
std::vector<float> score_stored_pairs(const ListingFetch& fetch, const Decider& decider,
                                      std::span<const KeyPair> pairs) {
  const PairFeaturizer stored = fetch(keys_of(pairs));
  const auto held = held_pairs(stored, pairs);
  if (held.size() == pairs.size()) return score_pairs(stored, decider, pairs);
  const auto scores = score_pairs(stored, decider, held);
  std::vector<float> out(pairs.size(), 0.0f);
  for (size_t i = 0, h = 0; i < pairs.size() && h < held.size(); ++i)
    if (pairs[i] == held[h]) out[i] = scores[h++];
  return out;
}

// A stored listing as a candidate of the stored listing `of`, with its confidence; both must be
// in `stored`.
MatchCandidate stored_candidate(const PairFeaturizer& stored, const Decider& decider, int64_t of,
                                int64_t key, float confidence) {
  return {stored.listing(key),
          cosine(stored.text_vector(of), stored.text_vector(key), stored.text_dim()),
          cosine(stored.image_vector(of), stored.image_vector(key), stored.image_dim()), confidence,
          confidence >= decider.threshold()};
}

}  // namespace

FoundKeys find_candidates(const CandidateIndexes& indexes, const MatchQuery& query) {
  FoundKeys found;
  search_into(indexes.text, query.text_vector, query.k, query.self, kFoundByText, found);
  if (indexes.image && !query.image_vector.empty() && query.image_k > 0)
    search_into(*indexes.image, query.image_vector, query.image_k, query.self, kFoundByImage,
                found);
  if (indexes.codes)
    for (int64_t key : indexes.codes(query.listing))
      if (key != query.self) mark(found, key, kFoundByCode);
  return found;
}

std::vector<MatchCandidate> score_candidates(const ListingFetch& fetch, const Decider& decider,
                                             const MatchQuery& query, FoundKeys found) {
  if (found.empty()) return {};
  std::vector<int64_t> keys;
  for (const auto& [key, sources] : found) keys.push_back(key);
  const PairFeaturizer stored = fetch(keys);
  std::erase_if(found, [&](const auto& f) { return !stored.contains(f.first); });
  keys.clear();
  for (const auto& [key, sources] : found) keys.push_back(key);
  if (keys.empty()) return {};
  const auto x =
      stored.features_against(query.listing, query.text_vector, keys, query.image_vector);
  const auto confidence = decider.predict(x.data(), keys.size());
  std::vector<MatchCandidate> out(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    auto& c = out[i];
    c.listing = stored.listing(keys[i]);
    c.similarity = cosine(query.text_vector, stored.text_vector(keys[i]));
    c.image_similarity = cosine(query.image_vector, stored.image_vector(keys[i]));
    c.confidence = confidence[i];
    c.match = confidence[i] >= decider.threshold();
    c.sources = found[i].second;
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.confidence > b.confidence; });
  return out;
}

std::vector<MatchCandidate> score_neighbours(const CandidateIndexes& indexes,
                                             const ListingFetch& fetch, const Decider& decider,
                                             const MatchQuery& query) {
  return score_candidates(fetch, decider, query, find_candidates(indexes, query));
}

std::vector<MatchCandidate> cluster_around(const CandidateIndexes& indexes,
                                           const ListingFetch& fetch, const Decider& decider,
                                           int64_t key, const ClusterSearch& search) {
  std::vector<ScoredPair> scored;
  std::unordered_map<int64_t, float> confidence_with_key;
  std::unordered_set<int64_t> reached{key};
  std::deque<int64_t> frontier{key};
  while (!frontier.empty() && reached.size() < search.max_listings) {
    const int64_t from = frontier.front();
    frontier.pop_front();
    const PairFeaturizer own = fetch(std::span(&from, 1));
    const float* vector = own.contains(from) ? own.text_vector(from) : nullptr;
    if (!vector) continue;
    const float* image = own.image_vector(from);
    const MatchQuery query{own.listing(from),
                           std::span(vector, own.text_dim()),
                           image ? std::span(image, own.image_dim()) : std::span<const float>(),
                           search.k,
                           search.k,
                           from};
    const auto neighbours = score_neighbours(indexes, fetch, decider, query);
    for (const auto& n : neighbours) {
      const int64_t to = n.listing.key;
      scored.push_back({from, to, n.confidence});
      if (from == key) confidence_with_key[to] = n.confidence;
      if (n.match && reached.size() < search.max_listings && reached.insert(to).second)
        frontier.push_back(to);
    }
  }
  ClusterOptions options;
  options.threshold = decider.threshold();
  options.max_cluster_size = search.max_cluster_size;
  PairScorer scorer = [&](std::span<const KeyPair> pairs) {
    return score_stored_pairs(fetch, decider, pairs);
  };
  const auto cluster_of = cluster_pairs(scored, scorer, options);
  std::vector<int64_t> others;
  const auto own = cluster_of.find(key);
  if (own != cluster_of.end())
    for (const auto& [member, cluster] : cluster_of)
      if (cluster == own->second && member != key) others.push_back(member);
  std::vector<int64_t> keys = others;
  keys.push_back(key);
  const PairFeaturizer stored = fetch(keys);
  if (!stored.contains(key)) return {};
  std::erase_if(others, [&](int64_t member) { return !stored.contains(member); });
  // Members reached through others were never scored against the listing itself.
  std::vector<KeyPair> unscored;
  for (int64_t member : others)
    if (!confidence_with_key.count(member)) unscored.emplace_back(key, member);
  const auto scores = score_pairs(stored, decider, unscored);
  for (size_t i = 0; i < unscored.size(); ++i) confidence_with_key[unscored[i].second] = scores[i];
  std::vector<MatchCandidate> members{stored_candidate(stored, decider, key, key, 1.0f)};
  for (int64_t member : others)
    members.push_back(stored_candidate(stored, decider, key, member, confidence_with_key[member]));
  std::stable_sort(members.begin() + 1, members.end(),
                   [](const auto& a, const auto& b) { return a.confidence > b.confidence; });
  return members;
}

std::vector<ReviewPair> uncertain_pairs(const VectorIndex& index, const ListingFetch& fetch,
                                        const Decider& decider, std::span<const int64_t> keys,
                                        const UnlabelledFilter& unlabelled, int k, size_t n) {
  const PairFeaturizer sampled = fetch(keys);
  std::vector<int64_t> held;
  for (int64_t key : keys)
    if (sampled.contains(key)) held.push_back(key);
  auto pairs = unlabelled(candidate_pairs(nearest_neighbours(index, sampled, held, k)));
  const PairFeaturizer stored = fetch(keys_of(pairs));
  pairs = held_pairs(stored, pairs);
  const auto confidence = score_pairs(stored, decider, pairs);
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
    out.push_back({stored.listing(a), stored.listing(b), confidence[order[i]]});
  }
  return out;
}

}  // namespace doppel
