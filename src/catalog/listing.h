// Listing — one product offer in a catalog, as doppel stores and compares it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace doppel {

struct Listing {
  std::string id;     // the seller's or catalog's id; unique within a catalog
  int64_t key = -1;   // dense int64 key assigned by CatalogStore (vector index ids); -1 = unstored
  std::string title;  // required, non-empty
  std::string description;
  std::string brand;
  std::string category;
  std::string model_number;  // manufacturer part / model number when the source has one
  std::optional<double> price;
  std::string image;  // local path or http(s) URL; empty when the listing has none
};

// A model number as an exact candidate key: its letters and digits, lower-cased; empty when
// that leaves fewer than 4 characters (too short to mean one product).
std::string model_number_key(std::string_view model_number);

// A human (or benchmark) verdict on whether two listings are the same product.
struct LabeledPair {
  std::string id_a;
  std::string id_b;
  bool match = false;
  std::string split;  // "train", "valid", "test" or "" (unassigned)
};

}  // namespace doppel
