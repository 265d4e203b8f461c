#include "pipeline/recent_listings.h"

#include <algorithm>
#include <vector>

#include "pipeline/candidates.h"

namespace doppel {

RecentListings::RecentListings(const CatalogStore& catalog, const ClassicalTextEncoder& classical,
                               const FeatureLayout& layout, size_t capacity)
    : catalog_(catalog),
      capacity_(capacity),
      featurizer_({}, classical, catalog.vectors("text", std::span<const int64_t>{}),
                  catalog.vectors("image", std::span<const int64_t>{}), layout) {}

const PairFeaturizer& RecentListings::holding(std::span<const KeyPair> pairs) {
  const auto needed = keys_of(pairs);
  std::vector<int64_t> missing;  // ascending, as `needed`
  for (int64_t key : needed)
    if (!featurizer_.contains(key)) missing.push_back(key);
  // Drop the listings held longest, except those this call needs: they go to the back.
  for (size_t checked = 0, n = held_.size();
       checked < n && featurizer_.size() + missing.size() > capacity_; ++checked) {
    const int64_t key = held_.front();
    held_.pop_front();
    if (std::binary_search(needed.begin(), needed.end(), key))
      held_.push_back(key);
    else
      featurizer_.remove(key);
  }
  if (missing.empty()) return featurizer_;
  const auto listings = catalog_.get_by_keys(missing);
  featurizer_.upsert(listings, catalog_.vectors("text", missing),
                     catalog_.vectors("image", missing));
  for (const Listing& listing : listings) held_.push_back(listing.key);
  reads_ += listings.size();
  return featurizer_;
}

}  // namespace doppel
