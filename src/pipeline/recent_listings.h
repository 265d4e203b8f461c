// RecentListings — a featurizer over the listings recent callers asked about, read from
// catalog.db and kept prepared for the calls after, at most `capacity` of them. For a batch step
// that keeps asking about overlapping sets of listings without holding the catalog: the dedup
// clustering guard asks about a growing group's members again at every merge it attempts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>

#include "catalog/catalog_store.h"
#include "pipeline/feature_layout.h"
#include "pipeline/pair_featurizer.h"
#include "text/classical_encoder.h"

namespace doppel {

class RecentListings {
 public:
  // `catalog` and `classical` must outlive this; `layout` as for PairFeaturizer.
  RecentListings(const CatalogStore& catalog, const ClassicalTextEncoder& classical,
                 const FeatureLayout& layout, size_t capacity);

  // A featurizer that holds every stored listing of `pairs` (a key of no stored listing stays
  // out, and features() then names it). To make room, the listings held longest that this call
  // does not need are dropped first, keeping at most `capacity` (more only while one call needs
  // more). The reference is valid until the next call.
  const PairFeaturizer& holding(std::span<const KeyPair> pairs);

  size_t reads() const { return reads_; }  // listings read from catalog.db so far

 private:
  const CatalogStore& catalog_;
  size_t capacity_;
  PairFeaturizer featurizer_;
  std::deque<int64_t> held_;  // oldest first
  size_t reads_ = 0;
};

}  // namespace doppel
