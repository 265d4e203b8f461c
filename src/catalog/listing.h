// Listing — one product offer in a catalog, as doppel stores and compares it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// The codes a listing is found by, as exact candidate keys, sorted and unique: its model number's
// letters and digits, lower-cased, when there are at least 4 ("DSC-W120" -> "dscw120"), and each
// code of its title. A title's code is a run of ASCII letters, digits and the separators '-',
// '/', '.' (any other byte, non-ASCII ones included, ends a run) that, with the separators
// dropped and lower-cased, has at least 5 characters, a letter and a digit ("SM-G991B" ->
// "smg991b", "MJYR2LL/A" -> "mjyr2lla"), and is not a quantity: a number with only letters after
// it ("128GB", "2.4GHz", "77in") or numbers joined by 'x' ("2x8GB", "1920x1080"). Runs are whole:
// "SDCFXPS-128G-X46" is one code, and a seller who writes "SDCFXPS-128G" names another.
// catalog.db stores each listing's codes (listing_codes table), so a change to these rules needs
// a schema version whose migration writes them again.
std::vector<std::string> listing_codes(const Listing& listing);

// A human (or benchmark) verdict on whether two listings are the same product.
struct LabeledPair {
  std::string id_a;
  std::string id_b;
  bool match = false;
  // "train", "valid", "test", "" (unassigned), or a name given with `ingest --split`, which
  // only `eval --split` reads.
  std::string split;
};

// Whether `split` is one the decider and the benchmarks know: train, valid or test.
inline bool is_standard_split(std::string_view split) {
  return split == "train" || split == "valid" || split == "test";
}

}  // namespace doppel
