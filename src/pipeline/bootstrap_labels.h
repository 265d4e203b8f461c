// Bootstrap labels — pairs of a catalog labelled by rules instead of people, so that a catalog
// without labelled pairs still gets a first decider (`doppel train decider ws --bootstrap`), one
// that dedup and the server run with and whose uncertain pairs the review page puts to people.
// With a few labelled pairs the rules' pairs join them (pipeline/decider_job.h). The rules read
// the candidate pairs a dedup would score (each listing's nearest neighbours by text vector) and
// label only the pairs they are sure of; the rest stay unlabelled:
//   match      the two listings have the same non-empty set of model codes (listing_codes,
//              catalog/listing.h), one of which at most kMaxCodeGroup listings hold; or each is
//              the other's most similar candidate by TF-IDF cosine, that cosine reaches
//              min_cosine, and they do not have codes of which none agree;
//   non-match  both have codes and share none; or the pair's TF-IDF cosine lies more than
//              far_margin below the best cosine of either listing's candidates.
// Rules are not labels: a benchmark catalog has sibling variants that share every code, and
// products listed many times whose titles differ more than the margin allows. Measured against
// benchmark labels, a decider trained on them is far behind one trained on the labelled pairs
// (docs/results.md, "Deciders from few or no labels").
#pragma once

#include <span>

#include "pipeline/labeled_pairs.h"
#include "pipeline/pair_featurizer.h"

namespace doppel {

// Chosen on the valid splits of eight benchmarks (docs/decisions.md, "A decider from rules").
struct BootstrapRules {
  float min_cosine = 0.4f;  // a mutual best match's least TF-IDF cosine
  float far_margin = 0.3f;  // below a listing's best candidate by this much: a non-match
};

struct BootstrapLabels {
  LabeledKeyPairs labelled;   // matches first, then non-matches, each in key order
  size_t same_codes = 0;      // matches by the first rule
  size_t mutual_best = 0;     // matches by the second (and not the first)
  size_t disjoint_codes = 0;  // non-matches by codes
  size_t far_from_best = 0;   // non-matches by cosine (and not by codes)
  size_t matches() const { return same_codes + mutual_best; }
  size_t non_matches() const { return disjoint_codes + far_from_best; }
};

// Labels what the rules are sure of among `candidates` (pairs of listings of `featurizer`,
// smaller key first, unique: candidates.h's candidate_pairs). The featurizer's layout must hold
// the pair features (tfidf_cosine, codes_disjoint); Error otherwise.
BootstrapLabels bootstrap_labels(const PairFeaturizer& featurizer,
                                 std::span<const KeyPair> candidates,
                                 const BootstrapRules& rules = {});

}  // namespace doppel
