// Synthetic catalogs with known duplicates, for the demo, tests and scale runs.
//
// Each *product* (brand, line, model code, capacity/size, colour, price) is listed 1..N times
// by different "sellers", each of which rewrites the title the way real sellers do: case, unit
// spacing ("128GB" / "128 gb"), hyphens dropped from model codes, colour names in another
// language, words reordered or dropped, marketing noise, the odd typo. Hard negatives come for
// free: products of one line differ only in capacity, colour or generation, as real variants do,
// and the labelled non-matches are drawn from those siblings.
// Everything is drawn from one seeded generator, so a seed names a catalog. Optionally each
// listing gets an image: a seller's photo of a rendered packshot of its product (packshot.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "catalog/listing.h"
#include "synth/packshot.h"

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
  std::vector<PackshotSpec> looks;      // synthesize_catalog: how each listing's product looks
};

SynthCatalog synthesize_catalog(const SynthOptions& options);

struct SynthImageOptions {
  int side = 160;     // pixels, square; >= 64
  uint64_t seed = 7;  // with the listing id, picks each seller photo
};

// Renders one packshot per product and one seller photo of it per listing (packshot.h) into
// dir/images/<listing id>.jpg, in parallel, and sets each listing's image to "images/<id>.jpg"
// (relative: ingest resolves it against the folder of listings.csv). Needs catalog.looks.
// Throws doppel::Error naming the file when one cannot be written.
void write_synth_images(SynthCatalog& catalog, const std::filesystem::path& dir,
                        const SynthImageOptions& options);

// Writes listings.csv (id,title,description,brand,price,image; empty fields for what a listing
// lacks), pairs.csv (id_a,id_b,label,split) and
// clusters.csv (id,cluster_id) into `dir`, creating it.
void write_synth_catalog(const SynthCatalog& catalog, const std::filesystem::path& dir);

// Writes the ground truth id,cluster_id of the listings whose index `keep` accepts (all of them
// when `keep` is empty) to `file`.
void write_clusters(const SynthCatalog& catalog, const std::filesystem::path& file,
                    const std::function<bool(size_t)>& keep = {});

}  // namespace doppel
