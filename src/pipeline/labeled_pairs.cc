#include "pipeline/labeled_pairs.h"

#include <algorithm>
#include <random>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace doppel {

size_t LabeledKeyPairs::positives() const {
  return static_cast<size_t>(std::count(labels.begin(), labels.end(), 1));
}

LabeledKeyPairs concatenate(LabeledKeyPairs a, const LabeledKeyPairs& b) {
  a.pairs.insert(a.pairs.end(), b.pairs.begin(), b.pairs.end());
  a.labels.insert(a.labels.end(), b.labels.begin(), b.labels.end());
  return a;
}

LabeledKeyPairs without(const LabeledKeyPairs& a, const LabeledKeyPairs& b) {
  std::set<KeyPair> held;
  for (const auto& [x, y] : b.pairs) held.emplace(std::min(x, y), std::max(x, y));
  LabeledKeyPairs out;
  for (size_t i = 0; i < a.pairs.size(); ++i) {
    const auto [x, y] = a.pairs[i];
    if (held.count({std::min(x, y), std::max(x, y)})) continue;
    out.pairs.push_back(a.pairs[i]);
    out.labels.push_back(a.labels[i]);
  }
  return out;
}

LabeledKeyPairs labeled_pairs(const CatalogStore& catalog, std::string_view split) {
  LabeledKeyPairs out;
  for (const auto& label : catalog.labels(split)) {
    out.pairs.emplace_back(label.key_a, label.key_b);
    out.labels.push_back(label.match ? 1 : 0);
  }
  return out;
}

std::pair<LabeledKeyPairs, LabeledKeyPairs> hold_out(const LabeledKeyPairs& all,
                                                     double valid_fraction) {
  LabeledKeyPairs train, valid;
  for (size_t i = 0; i < all.pairs.size(); ++i) {
    uint64_t h = static_cast<uint64_t>(all.pairs[i].first) * 0x9E3779B97F4A7C15ull ^
                 static_cast<uint64_t>(all.pairs[i].second) * 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 29;
    auto& target = (h % 1000) < valid_fraction * 1000 ? valid : train;
    target.pairs.push_back(all.pairs[i]);
    target.labels.push_back(all.labels[i]);
  }
  return {std::move(train), std::move(valid)};
}

namespace {

// The components of a graph over int64 keys, grown one edge at a time (union-find).
class KeyComponents {
 public:
  void join(int64_t a, int64_t b) {
    const int64_t ra = root(a), rb = root(b);
    if (ra != rb) parent_[ra] = rb;
  }
  bool joined(int64_t a, int64_t b) { return root(a) == root(b); }

 private:
  int64_t root(int64_t key) {
    int64_t r = key;
    for (auto it = parent_.find(r); it != parent_.end(); it = parent_.find(r)) r = it->second;
    while (key != r) {  // point the path at the root, so later walks are short
      int64_t& next = parent_[key];
      key = std::exchange(next, r);
    }
    return r;
  }
  std::unordered_map<int64_t, int64_t> parent_;  // keys without an entry are their own root
};

uint64_t unordered_pair_id(int64_t a, int64_t b) {
  const auto [lo, hi] = std::minmax(a, b);
  return static_cast<uint64_t>(lo) * 0x9E3779B97F4A7C15ull ^
         (static_cast<uint64_t>(hi) + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;
}

}  // namespace

LabeledKeyPairs random_negatives(std::span<const int64_t> keys, const LabeledKeyPairs& labelled,
                                 size_t count, uint64_t seed) {
  LabeledKeyPairs out;
  if (keys.size() < 2) return out;
  KeyComponents matches;
  std::unordered_set<uint64_t> taken;
  for (size_t i = 0; i < labelled.pairs.size(); ++i) {
    const auto [a, b] = labelled.pairs[i];
    if (labelled.labels[i]) matches.join(a, b);
    taken.insert(unordered_pair_id(a, b));
  }
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, keys.size() - 1);
  // Each draw succeeds unless the catalog is nearly exhausted, so a bounded number of attempts
  // ends the loop where too few pairs are left.
  for (size_t attempts = 20 * count + 100; out.pairs.size() < count && attempts > 0; --attempts) {
    const int64_t a = keys[pick(rng)], b = keys[pick(rng)];
    if (a == b || matches.joined(a, b) || !taken.insert(unordered_pair_id(a, b)).second) continue;
    out.pairs.emplace_back(std::min(a, b), std::max(a, b));
    out.labels.push_back(0);
  }
  return out;
}

LabeledKeyPairs random_catalog_negatives(const CatalogStore& catalog,
                                         const PairFeaturizer& featurizer, size_t count,
                                         uint64_t seed, const LabeledKeyPairs& more_labelled) {
  return random_negatives(featurizer.keys(), concatenate(labeled_pairs(catalog, ""), more_labelled),
                          count, seed);
}

}  // namespace doppel
