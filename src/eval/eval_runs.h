// `doppel eval` output folders read back, to compare deciders on the same labelled pairs
// (eval/paired_bootstrap.h): each folder's scores.csv (id_a,id_b,label,confidence, one record per
// labelled pair) and the threshold the run was judged at (metrics.json, at_threshold.threshold).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "eval/metrics.h"
#include "eval/paired_bootstrap.h"

namespace doppel {

struct EvalRuns {
  std::vector<uint8_t> labels;  // 1 = true match; the first folder's pairs, in its order
  // Per folder, in the order given, one decision per pair of `labels` (1 = confidence >= the
  // folder's threshold) and the metrics those decisions give.
  std::vector<std::vector<uint8_t>> decisions;
  std::vector<BinaryMetrics> metrics;
};

// Reads the folders (at least one). A pair is its two ids in either order. Throws doppel::Error
// naming the file, and the record by its number and ids, when a folder lacks either file, a record
// is malformed or repeats a pair, or the folders do not hold the same pairs with the same labels.
// Warns (naming the folder) when the decisions do not give the counts of its metrics.json, as
// confidences rounded by an older `doppel eval` can.
EvalRuns read_eval_runs(std::span<const std::filesystem::path> folders);

// Two settings' eval folders (`doppel eval-compare`): both read as above, then bootstrapped.
struct EvalComparison {
  size_t pairs = 0, matches = 0;
  std::vector<BinaryMetrics> baseline, candidate;  // per folder, in the order given
  PairedBootstrapOptions options;
  PairedBootstrap bootstrap;
};
EvalComparison compare_eval_runs(std::span<const std::filesystem::path> baseline,
                                 std::span<const std::filesystem::path> candidate,
                                 const PairedBootstrapOptions& options);

// Four lines for people: the pairs, each side's F1 (mean, range of its runs), the difference with
// its interval and the shares of draws on which the candidate is ahead and behind.
std::string eval_comparison_text(const EvalComparison& comparison);

// The same figures for scripts: pairs, matches, resamples, level, baseline and candidate
// ({f1, runs: [F1 of each folder]}), difference, interval [low, high], candidate_ahead,
// candidate_behind (shares of the draws).
nlohmann::json eval_comparison_json(const EvalComparison& comparison);

}  // namespace doppel
