#include "eval/paired_bootstrap.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "util/error.h"

namespace doppel {
namespace {

void check_runs(std::span<const std::vector<uint8_t>> runs, size_t pairs, const char* side) {
  if (runs.empty()) fail("paired bootstrap: the {} has no run", side);
  for (size_t r = 0; r < runs.size(); ++r) {
    if (runs[r].size() != pairs) {
      fail("paired bootstrap: {} run {} has {} decisions for {} pairs", side, r + 1, runs[r].size(),
           pairs);
    }
  }
}

// Mean F1 over `runs` when pair i counts weight[i] times.
double mean_f1(std::span<const uint8_t> labels, std::span<const std::vector<uint8_t>> runs,
               std::span<const uint32_t> weight) {
  double matches = 0;
  for (size_t i = 0; i < labels.size(); ++i) matches += double(weight[i]) * labels[i];
  double sum = 0;
  for (const auto& decisions : runs) {
    double accepted = 0, true_accepted = 0;
    for (size_t i = 0; i < labels.size(); ++i) {
      const double w = double(weight[i]) * decisions[i];
      accepted += w;
      true_accepted += w * labels[i];
    }
    // F1 = 2 TP / (2 TP + FP + FN) = 2 TP / (accepted + matches).
    sum += accepted + matches > 0 ? 2 * true_accepted / (accepted + matches) : 0.0;
  }
  return sum / double(runs.size());
}

// Linear interpolation between the order statistics of sorted `values` at quantile q.
double quantile(std::span<const double> sorted, double q) {
  const double at = q * double(sorted.size() - 1);
  const size_t below = size_t(std::floor(at));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (at - double(below)) * (sorted[above] - sorted[below]);
}

}  // namespace

PairedBootstrap paired_bootstrap_f1(std::span<const uint8_t> labels,
                                    std::span<const std::vector<uint8_t>> baseline,
                                    std::span<const std::vector<uint8_t>> candidate,
                                    const PairedBootstrapOptions& options) {
  const size_t n = labels.size();
  if (n == 0) fail("paired bootstrap: no pairs");
  check_runs(baseline, n, "baseline");
  check_runs(candidate, n, "candidate");
  if (options.resamples < 1) {
    fail("paired bootstrap: resamples must be at least 1, got {}", options.resamples);
  }
  if (!(options.level > 0 && options.level < 1)) {
    fail("paired bootstrap: level must be inside (0, 1), got {}", options.level);
  }

  PairedBootstrap result;
  std::vector<uint32_t> weight(n, 1);
  result.baseline_f1 = mean_f1(labels, baseline, weight);
  result.candidate_f1 = mean_f1(labels, candidate, weight);
  result.difference = result.candidate_f1 - result.baseline_f1;

  std::mt19937_64 rng(options.seed);
  std::uniform_int_distribution<size_t> pick(0, n - 1);
  std::vector<double> differences(size_t(options.resamples));
  size_t ahead = 0, behind = 0;
  for (double& difference : differences) {
    std::fill(weight.begin(), weight.end(), 0u);
    for (size_t k = 0; k < n; ++k) ++weight[pick(rng)];
    difference = mean_f1(labels, candidate, weight) - mean_f1(labels, baseline, weight);
    ahead += difference > 0;
    behind += difference < 0;
  }
  std::sort(differences.begin(), differences.end());
  result.low = quantile(differences, (1 - options.level) / 2);
  result.high = quantile(differences, (1 + options.level) / 2);
  result.candidate_ahead = double(ahead) / double(differences.size());
  result.candidate_behind = double(behind) / double(differences.size());
  return result;
}

}  // namespace doppel
