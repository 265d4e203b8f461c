// Rewrites every seller applies to a title, whatever the catalog: case changes and the odd typo.
// Shared by the synthetic catalog (catalog_synth.h) and the grocery benchmark (grocery_catalog.h).
#pragma once

#include <random>
#include <string>
#include <string_view>

namespace doppel {

// ASCII letters and the Latin-1 letters of Nordic and German titles (å ä ö ü é) change case;
// every other byte is kept, so UTF-8 stays valid.
std::string lower_case(std::string_view text);
std::string upper_case(std::string_view text);

// One transposition typo: two neighbouring bytes at a position drawn from `rng` (never among the
// first three or the last two bytes) swap, unless either is part of a multi-byte character; titles
// shorter than 9 bytes are returned unchanged without drawing.
std::string transposition_typo(std::string title, std::mt19937_64& rng);

}  // namespace doppel
