#include "pipeline/labeled_pairs.h"

#include <algorithm>

namespace doppel {

size_t LabeledKeyPairs::positives() const {
  return static_cast<size_t>(std::count(labels.begin(), labels.end(), 1));
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

}  // namespace doppel
