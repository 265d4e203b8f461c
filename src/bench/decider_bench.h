// decider_bench — pairs per second of deciders on the candidate pairs a dedup would score, beside
// the obvious alternative in the same run: a threshold on the cosine of the two text vectors (the
// "siamese" matcher). Rows: the cosine threshold, the deciders' features alone, and each decider
// alone (on features computed beforehand) and after its features (what dedup pays per pair), e.g.
// XGBoost and MLP side by side; an XGBoost decider with XGBoost's own predictor and with the
// compiled trees it predicts with (decide/tree_ensemble.h), leaving it on those. Each method runs
// over all pairs `repetitions` times after one untimed warm-up; median, min and max rates are
// reported.
// Threads: whatever the process set (the CLI's --threads).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "pipeline/match_models.h"

namespace doppel {

struct DeciderBenchRow {
  std::string method;
  size_t pairs = 0;
  double median_per_second = 0, min_per_second = 0, max_per_second = 0;
  double vs_cosine = 1;  // median rate / the cosine threshold's median rate
};

// The deciders must all take the featurizer's columns; pairs must name listings of the featurizer.
// The cosine row uses the first decider's threshold.
std::vector<DeciderBenchRow> run_decider_bench(const PairFeaturizer& featurizer,
                                               std::span<Decider* const> deciders,
                                               std::span<const KeyPair> pairs, int repetitions);

// A markdown table; the caption names the thread count and the decider's feature groups.
std::string decider_bench_markdown(const std::vector<DeciderBenchRow>& rows, int threads,
                                   const std::string& features);

}  // namespace doppel
