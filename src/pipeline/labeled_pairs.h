// The labelled pairs of one split as the decider consumes them: key pairs plus 0/1 labels.
#pragma once

#include <string_view>
#include <vector>

#include "pipeline/pair_featurizer.h"

namespace doppel {

struct LabeledKeyPairs {
  std::vector<KeyPair> pairs;
  std::vector<uint8_t> labels;  // 1 = same product
  size_t positives() const;
};

// Labels of `split` from the catalog ("" = all splits).
LabeledKeyPairs labeled_pairs(const CatalogStore& catalog, std::string_view split);

// Splits `all` into (train, valid) deterministically by hashing each pair, holding out
// `valid_fraction` of it — used when a catalog has training labels but no validation split.
std::pair<LabeledKeyPairs, LabeledKeyPairs> hold_out(const LabeledKeyPairs& all,
                                                     double valid_fraction);

}  // namespace doppel
