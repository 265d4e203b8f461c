#include "pipeline/decider_job.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "pipeline/bootstrap_labels.h"
#include "pipeline/candidates.h"
#include "pipeline/labeled_pairs.h"
#include "pipeline/match_models.h"
#include "pipeline/text_model_jobs.h"
#include "util/error.h"

namespace doppel {
namespace {

// Puts the out-of-fold text cosines (text_model_jobs.h) into the vector_cosine column of the
// rows of x that hold `train_pairs` (the first rows, one per pair), so the decider learns what the
// fine-tuned cosine is worth on pairs the encoder did not train on. Only when they belong to the
// encoder that made the stored text vectors. Returns the number of rows changed.
size_t use_out_of_fold_cosines(const Workspace& ws, const std::vector<std::string>& names,
                               std::span<const KeyPair> train_pairs, std::vector<float>& x) {
  const auto column = std::find(names.begin(), names.end(), "vector_cosine");
  if (column == names.end()) return 0;
  const auto oof = load_out_of_fold_cosines(ws);
  if (!oof) return 0;
  const std::string vectors_from = ws.catalog().meta("text_encoder").value_or("none");
  if (vectors_from != oof->encoder) {
    spdlog::warn("out-of-fold text cosines are for {} but the text vectors are from {}: not used",
                 oof->encoder, vectors_from);
    return 0;
  }
  const size_t width = names.size(), col = size_t(column - names.begin());
  size_t used = 0;
  for (size_t i = 0; i < train_pairs.size(); ++i) {
    const float* cosine = oof->find(train_pairs[i].first, train_pairs[i].second);
    if (!cosine) continue;
    x[i * width + col] = *cosine;
    ++used;
  }
  if (used < train_pairs.size()) {
    spdlog::warn("{} of {} train pairs have no out-of-fold text cosine (labelled after the "
                 "fine-tuning?): they keep the fine-tuned one",
                 train_pairs.size() - used, train_pairs.size());
  }
  return used;
}

// Labels candidate pairs by rule (bootstrap_labels.h): each listing's kBootstrapNeighbours
// nearest by text vector. Error when the rules find no match or no non-match.
BootstrapLabels bootstrap_workspace_labels(const Workspace& ws, const MatchModels& models) {
  const PairFeaturizer& featurizer = *models.featurizer;
  const auto candidates = candidate_pairs(
      nearest_neighbours(*models.index, featurizer, featurizer.keys(), kBootstrapNeighbours));
  auto labels = bootstrap_labels(featurizer, candidates);
  spdlog::info(
      "bootstrap labels among {} candidate pairs: {} matches ({} same codes, {} mutual "
      "best), {} non-matches ({} disjoint codes, {} far from the best)",
      candidates.size(), labels.matches(), labels.same_codes, labels.mutual_best,
      labels.non_matches(), labels.disjoint_codes, labels.far_from_best);
  if (labels.matches() == 0 || labels.non_matches() == 0)
    fail(
        "{}: the bootstrap rules found {} matches and {} non-matches among {} candidate pairs; "
        "a decider needs both: label some pairs (doppel ingest, or the review page)",
        ws.root().string(), labels.matches(), labels.non_matches(), candidates.size());
  return labels;
}

}  // namespace

DeciderTrainingSummary train_decider(Workspace& ws, const DeciderOptions& options,
                                     std::optional<FeatureLayout> features) {
  options.validate();
  DeciderTrainingSummary summary;
  auto train = labeled_pairs(ws.catalog(), "train");
  auto valid = labeled_pairs(ws.catalog(), "valid");
  if (!options.bootstrap && train.pairs.empty()) {
    fail(
        "{}: no labelled pairs in the train split; ingest a labelled pair file, or train a "
        "first decider from the catalog alone with --bootstrap",
        ws.root().string());
  }
  auto models =
      MatchModels::load(ws, /*need_decider=*/false, /*need_index=*/options.bootstrap, features);
  LabeledKeyPairs rule_labelled;
  if (options.bootstrap) {
    summary.bootstrap = bootstrap_workspace_labels(ws, models);
    rule_labelled = without(summary.bootstrap->labelled, labeled_pairs(ws.catalog(), ""));
  }
  const bool cross_fit = options.folds > 1;
  if (valid.pairs.empty() && !cross_fit) {
    // People's labels choose the threshold when there are any; rules only when there are none.
    const bool from_rules = train.pairs.empty();
    auto& held_out_from = from_rules ? rule_labelled : train;
    spdlog::warn("no 'valid' split: holding out 20% of the {} pairs to choose the threshold",
                 from_rules ? "rule-labelled" : "train");
    std::tie(held_out_from, valid) = hold_out(held_out_from, 0.2);
    summary.valid_held_out = true;
  }
  const size_t labelled_train = train.pairs.size();  // the first rows of train (and of all)
  train = concatenate(std::move(train), rule_labelled);
  summary.train_pairs = train.pairs.size();
  summary.train_positives = train.positives();
  summary.valid_pairs = valid.pairs.size();
  summary.valid_positives = valid.positives();
  if (options.random_negatives > 0) {
    const auto wanted =
        static_cast<size_t>(std::llround(options.random_negatives * summary.train_pairs));
    const auto random = random_catalog_negatives(
        ws.catalog(), *models.featurizer, wanted, options.seed,
        summary.bootstrap ? summary.bootstrap->labelled : LabeledKeyPairs{});
    summary.random_negatives = random.pairs.size();
    train = concatenate(std::move(train), random);
  }
  const FeatureLayout& layout = models.featurizer->layout();
  const auto names = layout.names();
  const std::vector<std::string_view> feature_names(names.begin(), names.end());
  const int width = models.featurizer->width();
  summary.features = layout.groups();
  summary.num_features = width;

  if (cross_fit) {
    const auto all = concatenate(std::move(train), valid);
    auto x = models.featurizer->features(all.pairs);
    summary.out_of_fold_text_cosines = use_out_of_fold_cosines(
        ws, names, std::span<const KeyPair>(all.pairs).first(labelled_train), x);
    spdlog::info("cross-fitting the decider: {} folds over {} train+valid pairs ({} positive)",
                 options.folds, all.pairs.size(), all.positives());
    std::vector<float> oof_scores;
    auto decider =
        Decider::train_cross_fitted(x.data(), all.labels, width, options, &oof_scores);
    decider.save(ws.decider_dir(), feature_names);
    summary.validation = fmt::format("{}-fold out-of-fold over train+valid ({} pairs)",
                                     options.folds, all.pairs.size());
    summary.valid_metrics = binary_metrics(oof_scores, all.labels, decider.threshold());
    return summary;
  }

  auto x_train = models.featurizer->features(train.pairs);
  summary.out_of_fold_text_cosines = use_out_of_fold_cosines(
      ws, names, std::span<const KeyPair>(train.pairs).first(labelled_train), x_train);
  const auto x_valid = models.featurizer->features(valid.pairs);
  spdlog::info(
      "training decider on {} pairs ({} positive, {} random non-matches), validating "
      "on {} ({} positive)",
      train.pairs.size(), train.positives(), summary.random_negatives, valid.pairs.size(),
      valid.positives());
  auto decider = Decider::train(x_train.data(), train.labels, x_valid.data(), valid.labels,
                                width, options);
  decider.save(ws.decider_dir(), feature_names);
  const auto valid_scores = decider.predict(x_valid.data(), valid.pairs.size());
  summary.validation = fmt::format(
      "{} ({} pairs)", summary.valid_held_out ? "20% held out from train" : "valid split",
      valid.pairs.size());
  summary.valid_metrics = binary_metrics(valid_scores, valid.labels, decider.threshold());
  return summary;
}

}  // namespace doppel
