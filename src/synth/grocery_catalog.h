// The grocery multimodal benchmark: a labelled catalog of real product photos with seller-style
// titles, built from ../shared/data/grocerystore-packages (image/grocery.h loads it).
//
// Every photo of the published split becomes one listing: its image is the real photo, its title
// a seller's rewrite of the product's name (docs/multimodal_benchmark.md gives the exact recipe).
// Labelled pairs follow the photo split (train photos -> "train" pairs, val -> "valid",
// test -> "test"); no pair joins two splits. Products recur across splits: the dataset splits
// photos (shot in different stores and sessions), not products, so a test pair is a product seen
// in training, photographed elsewhere and titled by another seller.
// One seed names one catalog: the same data and seed give the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "image/grocery.h"
#include "synth/catalog_synth.h"

namespace doppel {

// What a seller's title is made from, read from a product's iconic-images-and-descriptions folder.
struct GroceryProductText {
  std::string brand;               // "Arla": class-name words that start the manufacturer field
  std::vector<std::string> words;  // the rest of the class name: {"Standard", "Milk"}
  std::string manufacturer;        // "ARLA KO": the manufacturer field, as the package prints it
  std::string size;                // "1l", "3dl", "750g": the volume in the manufacturer field
  std::string swedish_title;       // the shop's Swedish title, "Mjölk 3%"
  std::vector<std::string> sentences;  // of the English and Swedish descriptions
};

// Reads <Product>_Information.txt ("Title:" and "Manufacturer and volume:" lines),
// <Product>_Description.txt and, when there is one, <Product>_Description_Swedish.txt beside the
// product's iconic image. Throws doppel::Error naming the file (and line) when a file or field is
// missing or the volume is not "<number><l|dl|cl|ml|kg|g>".
GroceryProductText read_grocery_product_text(const GroceryDataset& data, size_t product);

struct GroceryCatalogOptions {
  uint64_t seed = 1;
  size_t positives_per_listing = 1;         // another photo of the same product
  size_t hard_negatives_per_listing = 2;    // a photo of another product of the same coarse class
  size_t random_negatives_per_listing = 1;  // a photo of another coarse class
  // Adds one "catalogue" listing per product (studio image, the plain title "Brand Words Size").
  // They are in listings.csv and clusters.csv but in no labelled pair: they belong to no split.
  bool iconic_listings = false;
};

// Listings (ids "tr0001", "va0001", "te0001", "ic01" in seeded shuffled order, so that an id says
// nothing about the product), product_of = "<Coarse>/<Product>", and labelled pairs (unordered,
// each at most once; a hard negative falls back to a random one when the product is alone in its
// coarse class within the split).
SynthCatalog make_grocery_catalog(const GroceryDataset& data, const GroceryCatalogOptions& options);

}  // namespace doppel
