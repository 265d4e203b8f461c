// Text normalisation and word tokens shared by every text representation (TF-IDF features, the
// decider's pair features, WordPiece pre-tokenisation), so that "Café", "CAFE" and "café" are one
// word everywhere.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "catalog/listing.h"

namespace doppel {

// Unicode NFKC, case folding, accents stripped (decomposed, marks removed, recomposed), control
// characters removed, every run of whitespace collapsed to one ASCII space, no leading or
// trailing space. Bytes that are not valid UTF-8 become spaces (ingest stores only valid UTF-8,
// so this is a safety net, not a conversion).
// "  Café\tCRÈME ＭＩＬＫ " -> "cafe creme milk".
std::string normalize_text(std::string_view utf8);

// Word tokens of normalize_text output, in text order:
// - a token is a maximal run of letters, digits and combining marks (Unicode categories L*, N*,
//   M*); everything else (spaces, punctuation, symbols) separates tokens;
// - runs joined by a single '-', '/' or '.' with no space between ("dsc-w120/b", "7.2mp") form a
//   group; after the group's runs comes their concatenation, where a '.' between two digits is
//   kept so that decimals stay distinct from integers:
//     "sony dsc-w120/b 7.2mp" -> sony, dsc, w120, b, dscw120b, 7, 2mp, 7.2mp
// - a decimal comma is a separator like any other punctuation: "1,5 l" -> 1, 5, l.
// - scripts written without spaces (CJK) give one token per run; no per-character splitting.
std::vector<std::string> word_tokens(std::string_view normalized);

// The text the classical encoders read for a listing: title, brand and model number, then the
// first 30 whitespace-separated words of the description, joined by single spaces (empty fields
// skipped). Not normalised: transform() normalises.
std::string listing_text(const Listing& listing);

}  // namespace doppel
