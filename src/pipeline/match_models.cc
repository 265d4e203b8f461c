#include "pipeline/match_models.h"

#include "pipeline/index_job.h"
#include "pipeline/text_jobs.h"
#include "util/error.h"

namespace doppel {

Decider load_decider(const Workspace& ws) {
  if (!std::filesystem::exists(ws.decider_dir() / "decider.json"))
    fail("{}: no decider; run `doppel train decider {}` first", ws.decider_dir().string(),
         ws.root().string());
  const auto& names = pair_feature_names();
  return Decider::load(ws.decider_dir(), std::span<const std::string_view>(names.data(), names.size()));
}

MatchModels MatchModels::load(const Workspace& ws, bool need_decider, bool need_index) {
  MatchModels models;
  models.text_encoder = std::make_unique<ClassicalTextEncoder>(load_text_encoder(ws));
  models.text_vectors = ws.catalog().vectors("text");
  if (need_index) models.index = load_workspace_index(ws, models.text_vectors, "text");
  if (need_decider) models.decider = std::make_unique<Decider>(load_decider(ws));
  models.featurizer = std::make_unique<PairFeaturizer>(
      ws.catalog().all_listings(), models.text_encoder->tfidf(), models.text_vectors);
  return models;
}

}  // namespace doppel
