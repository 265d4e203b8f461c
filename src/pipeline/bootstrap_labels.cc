#include "pipeline/bootstrap_labels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "catalog/listing.h"
#include "pipeline/candidates.h"
#include "util/error.h"

namespace doppel {
namespace {

size_t column(const PairFeaturizer& featurizer, std::string_view name) {
  const auto names = featurizer.layout().names();
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) {
    fail(
        "bootstrap labels read the pair feature {}, which the feature groups '{}' lack: "
        "train with the group 'pair'",
        name, featurizer.layout().groups());
  }
  return size_t(it - names.begin());
}

// Each listing's most similar candidate by TF-IDF cosine (the first of equals).
struct BestCandidate {
  float cosine = -std::numeric_limits<float>::infinity();
  int64_t key = -1;
};

}  // namespace

BootstrapLabels bootstrap_labels(const PairFeaturizer& featurizer,
                                 std::span<const KeyPair> candidates, const BootstrapRules& rules) {
  // The two features the rules read, computed a block of pairs at a time (a catalog of 1M
  // listings has some 10M candidate pairs).
  const size_t width = featurizer.width();
  const size_t cosine_column = column(featurizer, "tfidf_cosine");
  const size_t disjoint_column = column(featurizer, "codes_disjoint");
  std::vector<float> cosines(candidates.size());
  std::vector<uint8_t> disjoint_codes(candidates.size());
  constexpr size_t kBlock = 1 << 16;
  for (size_t start = 0; start < candidates.size(); start += kBlock) {
    const auto block = candidates.subspan(start, std::min(kBlock, candidates.size() - start));
    const auto x = featurizer.features(block);
    for (size_t i = 0; i < block.size(); ++i) {
      cosines[start + i] = x[i * width + cosine_column];
      disjoint_codes[start + i] = x[i * width + disjoint_column] == 1.0f;
    }
  }

  std::unordered_map<int64_t, BestCandidate> best;
  for (size_t p = 0; p < candidates.size(); ++p) {
    const float c = cosines[p];
    if (std::isnan(c)) continue;
    const auto [a, b] = candidates[p];
    for (const auto& [self, other] : {std::pair{a, b}, std::pair{b, a}}) {
      BestCandidate& entry = best[self];
      if (c > entry.cosine) entry = {c, other};
    }
  }

  // Each listing's codes, and how many listings of the catalog hold each code: one held by many
  // names a product line.
  std::unordered_map<int64_t, std::vector<std::string>> codes;
  std::unordered_map<std::string, size_t> holders;
  for (const Listing& listing : featurizer.listings()) {
    const auto& own = codes[listing.key] = listing_codes(listing);
    for (const std::string& code : own) ++holders[code];
  }
  const auto same_codes = [&](int64_t a, int64_t b) {
    const auto& ca = codes[a];
    return !ca.empty() && ca == codes[b] && std::any_of(ca.begin(), ca.end(), [&](const auto& c) {
      return holders[c] <= kMaxCodeGroup;
    });
  };
  const auto best_of = [&](int64_t key) {
    const auto it = best.find(key);
    return it == best.end() ? BestCandidate{} : it->second;
  };

  enum class Rule { kNone, kSameCodes, kMutualBest, kDisjointCodes, kFarFromBest };
  const auto rule = [&](size_t p) {
    const auto [a, b] = candidates[p];
    const float c = cosines[p];
    const bool disjoint = disjoint_codes[p];
    const BestCandidate best_a = best_of(a), best_b = best_of(b);
    if (same_codes(a, b)) return Rule::kSameCodes;
    if (best_a.key == b && best_b.key == a && c >= rules.min_cosine && !disjoint)
      return Rule::kMutualBest;
    if (disjoint) return Rule::kDisjointCodes;
    if (c < std::max(best_a.cosine, best_b.cosine) - rules.far_margin) return Rule::kFarFromBest;
    return Rule::kNone;
  };

  BootstrapLabels out;
  LabeledKeyPairs non_matches;
  for (size_t p = 0; p < candidates.size(); ++p) {
    const Rule r = rule(p);
    if (r == Rule::kNone) continue;
    const bool match = r == Rule::kSameCodes || r == Rule::kMutualBest;
    LabeledKeyPairs& to = match ? out.labelled : non_matches;
    to.pairs.push_back(candidates[p]);
    to.labels.push_back(match);
    ++(r == Rule::kSameCodes       ? out.same_codes
       : r == Rule::kMutualBest    ? out.mutual_best
       : r == Rule::kDisjointCodes ? out.disjoint_codes
                                   : out.far_from_best);
  }
  out.labelled = concatenate(std::move(out.labelled), non_matches);
  return out;
}

}  // namespace doppel
