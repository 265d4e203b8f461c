// Synthetic catalogs with known duplicates, for the demo, tests and scale runs.
//
// Each *product* (brand, line, model code, capacity/size, colour, price) is listed 1..N times
// by different "sellers", each of which rewrites the title the way real sellers do: case, unit
// spacing ("128GB" / "128 gb"), hyphens dropped from model codes, colour names in another
// language, words reordered or dropped, marketing noise, the odd typo. Hard negatives come for
// free: products of one line differ only in capacity, colour or generation, as real variants do,
// and the labelled non-matches are drawn from those siblings.
// Everything is drawn from one seeded generator, so a seed names a catalog.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "catalog/listing.h"

namespace doppel {

struct SynthOptions {
  size_t products = 500;           // distinct products
  size_t max_listings_per_product = 4;
  double duplicate_rate = 0.6;     // share of products listed more than once
  size_t negatives_per_listing = 3;  // labelled non-matches per listing: two sibling variants,
                                     // one unrelated product
  uint64_t seed = 7;
};

struct SynthCatalog {
  std::vector<Listing> listings;
  std::vector<std::string> product_of;  // product id of each listing (ground-truth cluster)
  std::vector<LabeledPair> labels;      // positives and hard/random negatives, split by product
};

SynthCatalog synthesize_catalog(const SynthOptions& options);

// Writes listings.csv (id,title,description,brand,price,image; empty fields for what a listing
// lacks), pairs.csv (id_a,id_b,label,split) and
// clusters.csv (id,cluster_id) into `dir`, creating it.
void write_synth_catalog(const SynthCatalog& catalog, const std::filesystem::path& dir);

}  // namespace doppel
