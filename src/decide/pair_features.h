// Pair features — the hand-made evidence the decider weighs beside embedding similarity: token
// overlaps, model codes, numbers with units, brand, price and length agreement.
//
// Work per listing is done once (make_profile); work per pair (pair_features) only compares two
// profiles, so scoring k candidates of a listing costs k cheap comparisons.
//
// Every feature is symmetric by construction, f(a,b) == f(b,a) bit for bit (min/max/|diff|, never
// a-b), and missing information is NaN (XGBoost's "missing"), never a fake 0.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catalog/listing.h"
#include "decide/token_set.h"

namespace doppel {

// Everything about one listing that pair features need, computed once per listing (not per pair).
// Every field is normalised first as the TF-IDF normalises it (text/normalize.h: NFKC, case-folded,
// accents stripped), so "CAFÉ" and "cafe" agree. Tokens are runs of letters/digits of that text
// (bytes >= 0x80 count as letters, so other UTF-8 letters stay whole); everything else separates
// tokens.
struct ListingProfile {
  TokenSet title_tokens;  // word tokens of the title, weighted (e.g. by idf)
  TokenSet text_tokens;   // same over title + brand + model_number + category + description
  std::vector<uint64_t> title_trigrams;    // hashed char-3-grams of " title " (sorted unique)
  // Alphanumeric model codes from title + model_number + description: whitespace-separated chunks
  // with '-', '/', '.' removed that have >= 1 letter and >= 1 digit and length >= 3, or are all
  // digits with length >= 5; each '/'- and '-'-separated part that qualifies on its own is added
  // too ("DSC-W120/B" gives "dscw120b", "dscw120", "w120"). Chunks that parse as a quantity
  // ("128gb", "7.2mp") are not codes. Sorted unique.
  std::vector<std::string> codes;
  // The first code of the title, whole (not its '/'- or '-'-parts): the one the seller leads
  // with, usually the product's own model number; codes further on may name related products
  // ("... MWW06V000003 | shop: see also MWW06V000002"). Empty if the title has none.
  std::string lead_code;
  // Numbers with units from title + description ("128gb", "128 gb", "24\"", "24in", "1,5 l"),
  // units canonicalised (gigabyte -> gb, inch/'' -> in, litre -> l, ...); a rate is a unit of its
  // own ("160mb/s" -> mb/s, "54mbps" -> mbit/s), so a speed is neither a size nor a code.
  // Sorted unique.
  std::vector<std::pair<double, std::string>> quantities;
  // Colours the title names, canonicalised across languages ("schwarz", "nero", "siyah" -> black),
  // as indices into a fixed palette. Sorted unique.
  std::vector<uint8_t> colours;
  std::vector<uint8_t> audiences;    // who the title says it is for (men, women, kids), likewise
  std::vector<std::string> numbers;  // tokens of the title that are all digits (sorted unique)
  std::string brand;                 // the brand's tokens joined by ' '; empty if unknown
  std::string title_text;            // the title's tokens in order, joined by ' ' (brand lookup)
  std::string title_compact;         // the title's tokens run together (code lookup)
  // > 0 when known: the price field, else a price ending the title ("... cartridge 42.49"), which
  // then is not part of the title's tokens, text, trigrams, codes or length.
  std::optional<double> price;
  size_t title_length = 0;  // number of title tokens (with repeats)

  // Starts loading the first cache line of each array pair_features reads most (the token sets,
  // trigrams and codes), for a caller that knows which profile comes next (util/prefetch.h).
  void prefetch() const;
};

ListingProfile make_profile(const Listing& listing, const TokenWeight& token_weight = {});

// Similarities that need other modules (embeddings, TF-IDF); the caller computes them. NaN when
// not available (e.g. a listing without an image vector).
struct PairInputs {
  float vector_cosine = NAN;  // cosine of the two listings' embedding vectors
  float tfidf_cosine = NAN;   // cosine of their TF-IDF vectors (title, brand, model, description)
  float title_tfidf_cosine = NAN;  // cosine of the TF-IDF vectors of the titles alone
};

// The features, in output order. "NaN if ..." lists when a feature is missing.
//  0 vector_cosine           PairInputs::vector_cosine
//  1 tfidf_cosine            PairInputs::tfidf_cosine
//  2 title_jaccard           |A∩B|/|A∪B| of title tokens (NaN if both empty)
//  3 text_jaccard            same over text tokens (title, brand, model, category, description)
//  4 title_trigram_jaccard   same over title char-3-grams
//  5 title_containment_min   min(|A∩B|/|A|, |A∩B|/|B|) over title tokens (NaN if either empty)
//  6 title_containment_max   max of the same two
//  7 codes_shared            number of codes in both (NaN if either has no code)
//  8 codes_any_shared        1 if any code is shared, else 0 (NaN if either has no code)
//  9 codes_disjoint          1 if both have codes and none is shared, else 0 (always defined)
// 10 code_in_other_title     1 if a code of one side is a substring of the other's compact title
//                            (NaN if neither has a code)
// 11 quantities_shared       number of (value, unit) in both (NaN if either has none)
// 12 quantities_conflicts    units present on both sides with no value in common (NaN likewise)
// 13 numbers_jaccard         Jaccard of bare title numbers (NaN if both have none)
// 14 brand_match             1 if brands are equal or one side's brand occurs as a word in the
//                            other's title, else 0 when both brands are known, NaN otherwise
// 15 price_ratio             min price / max price (NaN if either is missing)
// 16 price_log_ratio_abs     |log(max price) - log(min price)| (NaN likewise)
// 17 title_length_ratio      min / max title token count (NaN if either is 0)
// 18 title_length_min        min title token count
// 19 title_length_max        max title token count
// 20 title_tfidf_cosine      PairInputs::title_tfidf_cosine
// 21 title_weighted_jaccard  Σ weight(shared title tokens) / Σ weight(all title tokens of both)
//                            (NaN if both titles are empty)
// 22 unmatched_weight_max    the largest weight of a title token found on one side only: one rare
//                            word that the other title lacks ("pro", "xl", a colour) often means
//                            another product (0 when every token is shared; NaN if both empty)
// 23 unmatched_digit_tokens  number of title tokens containing a digit found on one side only
// 24 text_weighted_jaccard   21 over the text tokens: robust when sellers put brand, model or
//                            category into the title on one side and into fields on the other
// 25 text_unmatched_weight_max  22 over the text tokens
// 26 compact_containment_min weighted share of one title's tokens found as substrings of the
//                            other's compact title (letters and digits only), the smaller of the
//                            two directions: catches "4gb" vs "4 gb", "108 r00645" vs
//                            "108r00645", "attach" vs "attache" (NaN if either title is empty)
// 27 compact_containment_max the larger of the two directions
// 28 codes_near_miss         1 if the sides share no code, yet a code of one is one or two edits
//                            from a code of the other without containing it ("tlsg1005d" vs
//                            "tlsf1005d"): the mark of a sibling variant (NaN if either has none)
// 29 quantities_unmatched    (value, unit) pairs on one side whose unit the other side mentions
//                            with other values only ("2gb 2x1gb" vs "4gb 2x2gb" -> 2)
//                            (NaN if either has no quantity)
// 30 monge_elkan_min         weighted Monge-Elkan similarity of the titles: each token of one
//                            title scored by its closest token in the other (1 - normalised
//                            edit distance), averaged with the token weights; the smaller of the
//                            two directions. Forgives typos and spelling variants ("attache" /
//                            "attach", "gray" / "grey") that exact overlaps count as misses
//                            (NaN if either title is empty)
// 31 monge_elkan_max         the larger of the two directions
// 32 codes_prefix_share      the best code pair's shared leading bytes over the longer code's
//                            length: the same code with a variant suffix ("mz7te250bw" /
//                            "mz7te250" 0.8) scores high, siblings that part early ("tlsg1005d" /
//                            "tlsf1005d" 0.33) low (NaN if either has no code)
// 33 shared_weight_max       the largest weight of a title token found on both sides, 22's
//                            counterpart: one shared rare word is strong evidence of a match
//                            (0 when no token is shared; NaN if both titles are empty)
// 34 title_common_suffix     the number of whole word tokens both titles end with, in order:
//                            shops append their own boilerplate to every title ("... | fujifilm
//                            at unique photo"), and two listings of one shop are rarely one
//                            product, so a long shared ending is evidence against a match that
//                            the overlaps above count for it (NaN if either title is empty)
// 35 lead_codes_equal        1 if the two titles' lead codes are equal, else 0 (NaN if either
//                            title has no code): siblings listed with each other's numbers share
//                            codes, but each leads with its own
// 36 lead_codes_prefix_share 32 for the lead codes alone (NaN likewise)
// 37 colours_unmatched       the number of colours one title names and the other does not
//                            (canonical, so "black" and "schwarz" agree): colour variants are the
//                            commonest siblings (NaN if either title names no colour)
// 38 audiences_unmatched     37 for who a product is for (men / women / kids, in the same
//                            languages): "Men's PRC200" vs "Ladies' PRC200" (NaN if either names
//                            none)
constexpr int kNumPairFeatures = 39;
const std::array<std::string_view, kNumPairFeatures>& pair_feature_names();

// Writes kNumPairFeatures floats to `out`.
void pair_features(const ListingProfile& a, const ListingProfile& b, const PairInputs& inputs,
                   float* out);

}  // namespace doppel
