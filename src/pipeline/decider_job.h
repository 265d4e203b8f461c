// Training the decider on the catalog's labelled pairs. By default (options.folds == 1) the train
// split fits one model and the valid split stops it early and chooses the threshold. With
// options.folds > 1 the train and valid splits are pooled and the decider is cross-fitted over
// them (see decide/decider.h): the out-of-fold predictions choose the threshold and give the
// reported metrics. Either way the train pairs are joined by options.random_negatives random
// catalog pairs per train pair, as non-matches (labeled_pairs.h). The test split is never read
// here, except that no random or rule-labelled train pair is one of its pairs. With
// options.bootstrap, rules label the catalog's candidate pairs (bootstrap_labels.h), and those
// that no person labelled join the train pairs; the threshold is still chosen on people's labels
// (the valid split, or 20% of the train pairs), and on 20% of the rule-labelled pairs only when
// the catalog has no labels at all.
#pragma once

#include <optional>
#include <string>

#include "decide/decider.h"
#include "eval/metrics.h"
#include "pipeline/bootstrap_labels.h"
#include "pipeline/feature_layout.h"
#include "pipeline/workspace.h"

namespace doppel {

// Neighbours per listing among which bootstrap rules label pairs (options.bootstrap).
constexpr int kBootstrapNeighbours = 10;

struct DeciderTrainingSummary {
  size_t train_pairs = 0, train_positives = 0;  // train pairs, rule-labelled ones included
  size_t random_negatives = 0;                  // random catalog pairs added to them as non-matches
  // With options.bootstrap: every pair the rules labelled, those that people labelled too among
  // them (their own labels are used there).
  std::optional<BootstrapLabels> bootstrap;
  size_t valid_pairs = 0, valid_positives = 0;
  bool valid_held_out = false;  // true when valid came from train (the catalog had no valid split)
  // What valid_metrics were measured on: "5-fold out-of-fold over train+valid (N pairs)" when
  // cross-fitted, "valid split (N pairs)" or "20% held out from train (N pairs)" otherwise.
  std::string validation;
  std::string features;         // the feature groups, e.g. "pair,text,image"
  int num_features = 0;
  // Train pairs whose text cosine is the out-of-fold one of a cross-fitted fine-tuning
  // (`train text --stage match --folds K`, pipeline/text_model_jobs.h) instead of the final
  // encoder's, which was fitted to those very pairs.
  size_t out_of_fold_text_cosines = 0;
  BinaryMetrics valid_metrics;  // at the chosen threshold, on the pairs `validation` describes
};

// `features` chooses the decider's inputs (match_models.h's default_layout() when not given); the
// trained decider stores their names, from which dedup, eval and the server compute the same
// columns.
DeciderTrainingSummary train_decider(Workspace& ws, const DeciderOptions& options,
                                     std::optional<FeatureLayout> features = {});

}  // namespace doppel
