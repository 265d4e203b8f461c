// Is one decider really better than another on the same labelled pairs? A paired bootstrap of
// positive-class F1: the pairs are drawn again with replacement, both sides are scored on the same
// draw, and the spread of the difference over many draws says how much of it the choice of test
// pairs alone could produce. A test split of ~200 matches moves F1 by about a quarter of a point
// per pair, so differences under a point are often inside that spread.
//
// Each side may be several runs of one setting (decider seeds, fine-tuning seeds); its F1 is the
// mean over its runs on each draw, so training noise is averaged over the runs given, not
// resampled. Pure functions over decisions; no I/O (eval/eval_runs.h reads `doppel eval` folders).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace doppel {

struct PairedBootstrapOptions {
  int resamples = 10000;  // draws of the pairs
  double level = 0.95;    // coverage of the interval reported for the difference
  uint64_t seed = 42;
};

struct PairedBootstrap {
  double baseline_f1 = 0;       // mean F1 over the baseline's runs, on the pairs as they are
  double candidate_f1 = 0;      // the same for the candidate's runs
  double difference = 0;        // candidate_f1 - baseline_f1
  double low = 0, high = 0;     // central `level` interval of the difference over the draws
  double candidate_ahead = 0;   // share of draws on which the difference is > 0
  double candidate_behind = 0;  // share of draws on which it is < 0 (the rest are ties)
};

// labels[i] is 1 for a true match; each run of `baseline` and `candidate` holds one decision per
// pair (1 = accepted as a match), in the order of `labels`. F1 of a draw with no match and no
// acceptance is 0. Throws doppel::Error when a side has no run, a run's length differs from
// labels', there are no pairs, resamples < 1 or level is not inside (0, 1).
PairedBootstrap paired_bootstrap_f1(std::span<const uint8_t> labels,
                                    std::span<const std::vector<uint8_t>> baseline,
                                    std::span<const std::vector<uint8_t>> candidate,
                                    const PairedBootstrapOptions& options = {});

}  // namespace doppel
