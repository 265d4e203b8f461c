#include "pipeline/decider_job.h"

#include <spdlog/spdlog.h>

#include "pipeline/labeled_pairs.h"
#include "pipeline/match_models.h"
#include "util/error.h"

namespace doppel {

DeciderTrainingSummary train_decider(Workspace& ws, const DeciderOptions& options) {
  DeciderTrainingSummary summary;
  auto train = labeled_pairs(ws.catalog(), "train");
  auto valid = labeled_pairs(ws.catalog(), "valid");
  if (train.pairs.empty())
    fail("{}: no labelled pairs in the train split; ingest a labelled pair file first",
         ws.root().string());
  if (valid.pairs.empty()) {
    spdlog::warn("no 'valid' split: holding out 20% of the train pairs to choose the threshold");
    std::tie(train, valid) = hold_out(train, 0.2);
    summary.valid_held_out = true;
  }
  auto models = MatchModels::load(ws, /*need_decider=*/false, /*need_index=*/false);
  auto x_train = models.featurizer->features(train.pairs);
  auto x_valid = models.featurizer->features(valid.pairs);
  spdlog::info("training decider on {} pairs ({} positive), validating on {} ({} positive)",
               train.pairs.size(), train.positives(), valid.pairs.size(), valid.positives());
  auto decider = Decider::train(x_train.data(), train.labels, x_valid.data(), valid.labels,
                                kNumPairFeatures, options);
  const auto& names = pair_feature_names();
  decider.save(ws.decider_dir(), std::span<const std::string_view>(names.data(), names.size()));

  auto valid_scores = decider.predict(x_valid.data(), valid.pairs.size());
  summary.train_pairs = train.pairs.size();
  summary.train_positives = train.positives();
  summary.valid_pairs = valid.pairs.size();
  summary.valid_positives = valid.positives();
  summary.valid_metrics = binary_metrics(valid_scores, valid.labels, decider.threshold());
  return summary;
}

}  // namespace doppel
