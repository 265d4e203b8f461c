// Evaluation on labelled pairs: decider quality at its threshold (chosen on valid), a threshold
// sweep, PR curve and score histograms, and candidate recall@k of the vector index.
#pragma once

#include <cmath>
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
  // Random pairs of catalog listings to score beside the labelled ones (0: none): see
  // EvalSummary::random_pairs.
  size_t random_pairs = 3000;
};

struct EvalSummary {
  std::string split;
  size_t pairs = 0, positives = 0;
  BinaryMetrics at_threshold;            // at the decider's own threshold
  double average_precision = 0;
  // Share of the split's true matches found among the candidates, per source, at each k of
  // EvalOptions::recall_ks; empty without a text index.
  struct CandidateRecall {
    int k = 0;
    double text = 0;      // top-k by text vector, either direction
    double image = NAN;   // top-k by image vector (NaN without ws/index/image.index)
    double exact = 0;     // a shared code, listing_codes (independent of k)
    double any = 0;       // the union: what the dedup's decider gets to see
  };
  std::vector<CandidateRecall> candidate_recall;
  // Random pairs of catalog listings (labeled_pairs.h's random_negatives, drawn with another seed
  // than the decider's own), and how many of them the decider accepts. Nearly every such pair is
  // two products, so the share accepted is the decider's false-match rate on unrelated listings:
  // pairs that dedup and the server meet and that blocked labelled pairs lack.
  size_t random_pairs = 0, random_pairs_accepted = 0;
};

EvalSummary run_eval(Workspace& ws, const EvalOptions& options);

}  // namespace doppel
