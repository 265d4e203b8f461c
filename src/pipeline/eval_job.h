// Evaluation on labelled pairs: decider quality at its threshold (chosen on valid), a threshold
// sweep, PR curve and score histograms, and candidate recall@k of the vector index.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "eval/metrics.h"
#include "pipeline/workspace.h"

namespace doppel {

struct EvalOptions {
  std::string split = "test";
  // Receives metrics.json, report.md, pr_curve.svg, scores.svg (histogram by class) and
  // scores.csv (id_a,id_b,label,confidence for every labelled pair).
  std::filesystem::path out_dir;
  std::vector<int> recall_ks = {1, 5, 10, 20, 50};
};

struct EvalSummary {
  std::string split;
  size_t pairs = 0, positives = 0;
  BinaryMetrics at_threshold;            // at the decider's own threshold
  double average_precision = 0;
  std::vector<std::pair<int, double>> candidate_recall;  // (k, recall); empty without an index
};

EvalSummary run_eval(Workspace& ws, const EvalOptions& options);

}  // namespace doppel
