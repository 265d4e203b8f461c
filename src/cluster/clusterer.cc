#include "cluster/clusterer.h"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <utility>
#include <vector>

#include "util/error.h"

namespace doppel {
namespace {

struct PairHash {
  size_t operator()(const std::pair<int64_t, int64_t>& p) const {
    return std::hash<int64_t>()(p.first) * 0x9E3779B97F4A7C15ull ^ std::hash<int64_t>()(p.second);
  }
};
using ScoreMap = std::unordered_map<std::pair<int64_t, int64_t>, float, PairHash>;

std::pair<int64_t, int64_t> ordered(int64_t a, int64_t b) {
  return {std::min(a, b), std::max(a, b)};
}

// Groups as member lists plus a key -> group index; merging moves the smaller list.
class Groups {
 public:
  size_t group_of(int64_t key) {
    auto [it, inserted] = group_.try_emplace(key, members_.size());
    if (inserted) members_.push_back({key});
    return it->second;
  }
  const std::vector<int64_t>& members(size_t g) const { return members_[g]; }
  void merge(size_t x, size_t y) {
    if (members_[x].size() < members_[y].size()) std::swap(x, y);
    for (int64_t key : members_[y]) group_[key] = x;
    members_[x].insert(members_[x].end(), members_[y].begin(), members_[y].end());
    members_[y].clear();
  }
  std::unordered_map<int64_t, int64_t> cluster_ids() const {
    std::unordered_map<int64_t, int64_t> ids;
    for (const auto& members : members_) {
      if (members.empty()) continue;
      const int64_t id = *std::min_element(members.begin(), members.end());
      for (int64_t key : members) ids[key] = id;
    }
    return ids;
  }

 private:
  std::unordered_map<int64_t, size_t> group_;
  std::vector<std::vector<int64_t>> members_;
};

// Whether the mean confidence over all cross pairs of x and y reaches the threshold. Known
// scores come first: when they already settle the answer (confidences lie in [0, 1]) the scorer
// is not asked; otherwise every unknown cross pair goes to the scorer in one batch.
bool average_link_passes(const std::vector<int64_t>& x, const std::vector<int64_t>& y,
                         ScoreMap& scores, const PairScorer& scorer, float threshold) {
  const double needed = double(threshold) * double(x.size() * y.size());
  auto confidence = [](float s) { return std::isnan(s) ? 0.0 : std::clamp(double(s), 0.0, 1.0); };
  double sum = 0;
  std::vector<std::pair<int64_t, int64_t>> unknown;
  for (int64_t a : x) {
    for (int64_t b : y) {
      const auto key = ordered(a, b);
      const auto it = scores.find(key);
      if (it == scores.end()) {
        unknown.push_back(key);
      } else {
        sum += confidence(it->second);
      }
    }
  }
  if (sum >= needed) return true;
  if (sum + double(unknown.size()) < needed) return false;
  std::vector<float> asked(unknown.size(), NAN);
  if (scorer) {
    asked = scorer(unknown);
    DOPPEL_CHECK(asked.size() == unknown.size(), "scorer returned {} confidences for {} pairs",
                 asked.size(), unknown.size());
  }
  for (size_t i = 0; i < unknown.size(); ++i) {
    scores.emplace(unknown[i], asked[i]);
    sum += confidence(asked[i]);
  }
  return sum >= needed;
}

}  // namespace

void ClusterOptions::validate() const {
  if (std::isnan(threshold)) fail("cluster options: threshold is NaN");
  if (max_cluster_size < 1) fail("cluster options: max_cluster_size must be >= 1, got 0");
}

std::unordered_map<int64_t, int64_t> cluster_pairs(std::span<const ScoredPair> pairs,
                                                   const PairScorer& scorer,
                                                   const ClusterOptions& options) {
  options.validate();
  ScoreMap scores;
  std::vector<ScoredPair> accepted;
  for (const auto& p : pairs) {
    if (p.a == p.b) continue;
    const auto key = ordered(p.a, p.b);
    if (!std::isnan(p.confidence)) {
      auto [it, inserted] = scores.try_emplace(key, p.confidence);
      if (!inserted)
        it->second = std::isnan(it->second) ? p.confidence : std::max(it->second, p.confidence);
    } else {
      scores.try_emplace(key, p.confidence);
    }
    if (p.confidence >= options.threshold)
      accepted.push_back({key.first, key.second, p.confidence});
  }
  std::sort(accepted.begin(), accepted.end(), [](const ScoredPair& x, const ScoredPair& y) {
    return std::tie(y.confidence, x.a, x.b) < std::tie(x.confidence, y.a, y.b);
  });

  Groups groups;
  for (const auto& edge : accepted) {
    const size_t ga = groups.group_of(edge.a);
    const size_t gb = groups.group_of(edge.b);
    if (ga == gb) continue;
    const auto& ma = groups.members(ga);
    const auto& mb = groups.members(gb);
    if (ma.size() + mb.size() > options.max_cluster_size) continue;
    if (options.linkage == Linkage::kAverage &&
        !average_link_passes(ma, mb, scores, scorer, options.threshold)) {
      continue;
    }
    groups.merge(ga, gb);
  }
  return groups.cluster_ids();
}

}  // namespace doppel
