// The labelled pairs of one split as the decider consumes them: key pairs plus 0/1 labels.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "pipeline/pair_featurizer.h"

namespace doppel {

struct LabeledKeyPairs {
  std::vector<KeyPair> pairs;
  std::vector<uint8_t> labels;  // 1 = same product
  size_t positives() const;
};

// `a`'s pairs followed by `b`'s.
LabeledKeyPairs concatenate(LabeledKeyPairs a, const LabeledKeyPairs& b);
// `a`'s pairs that `b` does not hold (in either order).
LabeledKeyPairs without(const LabeledKeyPairs& a, const LabeledKeyPairs& b);

// Labels of `split` from the catalog ("" = all splits).
LabeledKeyPairs labeled_pairs(const CatalogStore& catalog, std::string_view split);

// Splits `all` into (train, valid) deterministically by hashing each pair, holding out
// `valid_fraction` of it — used when a catalog has training labels but no validation split.
std::pair<LabeledKeyPairs, LabeledKeyPairs> hold_out(const LabeledKeyPairs& all,
                                                     double valid_fraction);

// Up to `count` pairs of two of `keys` drawn uniformly at random (seeded), labelled non-matches:
// what the decider needs to learn that unrelated listings are not one product. Labelled pairs
// come from a benchmark's or a reviewer's blocking and are all alike (a Walmart-Amazon
// non-match shares most of its title), while dedup and the server also meet pairs that share
// little; trained on the labelled pairs alone, a decider may call those matches
// (docs/decisions.md, "Random catalog pairs as non-matches"). A pair is drawn again when
// `labelled` holds it (either order), when a chain of `labelled`'s matches joins its two
// listings, or when it was drawn before; fewer than `count` come back when the keys have too few
// such pairs. A uniform pair of a catalog is a match with probability (pairs inside products) /
// (all pairs): 1 / (n - 1) for n listings that come in pairs, falling with the catalog's size.
LabeledKeyPairs random_negatives(std::span<const int64_t> keys, const LabeledKeyPairs& labelled,
                                 size_t count, uint64_t seed);

// random_negatives() over every listing of `featurizer`, clear of every labelled pair of `catalog`
// (any split) and of `more_labelled` (pairs labelled elsewhere, e.g. by bootstrap rules): what
// the decider trains on and what eval scores.
LabeledKeyPairs random_catalog_negatives(const CatalogStore& catalog,
                                         const PairFeaturizer& featurizer, size_t count,
                                         uint64_t seed, const LabeledKeyPairs& more_labelled = {});

}  // namespace doppel
