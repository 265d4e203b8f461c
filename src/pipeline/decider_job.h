// Training the decider on the catalog's labelled pairs: train split to fit, valid split to stop
// early and to choose the threshold. The test split is never read here.
#pragma once

#include "decide/decider.h"
#include "eval/metrics.h"
#include "pipeline/workspace.h"

namespace doppel {

struct DeciderTrainingSummary {
  size_t train_pairs = 0, train_positives = 0;
  size_t valid_pairs = 0, valid_positives = 0;
  bool valid_held_out = false;   // true when valid came from train (the catalog had no valid split)
  BinaryMetrics valid_metrics;   // at the chosen threshold
};

DeciderTrainingSummary train_decider(Workspace& ws, const DeciderOptions& options);

}  // namespace doppel
