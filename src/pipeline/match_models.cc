#include "pipeline/match_models.h"

#include <filesystem>

#include "pipeline/index_job.h"
#include "pipeline/text_jobs.h"
#include "util/error.h"

namespace doppel {

FeatureLayout default_layout(const Workspace& ws, std::string_view classical_encoder) {
  FeatureLayout layout;
  const auto text_encoder = ws.catalog().meta("text_encoder");
  layout.classical = text_encoder && *text_encoder != classical_encoder;
  layout.image = ws.catalog().vectors("image", std::span<const int64_t>{}).dim > 0;
  return layout;
}

PairFeaturizer stored_listings(const CatalogStore& catalog, std::span<const int64_t> keys,
                               const ClassicalTextEncoder& classical, const FeatureLayout& layout) {
  return PairFeaturizer(catalog.get_by_keys(keys), classical, catalog.vectors("text", keys),
                        catalog.vectors("image", keys), layout);
}

Decider load_decider(const Workspace& ws, FeatureLayout* layout) {
  if (!std::filesystem::exists(ws.decider_dir() / "decider.json"))
    fail("{}: no decider; run `doppel train decider {}` first", ws.decider_dir().string(),
         ws.root().string());
  std::vector<std::string> names;
  Decider decider = Decider::load(ws.decider_dir(), &names);
  *layout = FeatureLayout::from_names(names, ws.decider_dir().string());
  return decider;
}

MatchModels MatchModels::load(const Workspace& ws, bool need_decider, bool need_index,
                              std::optional<FeatureLayout> layout, bool need_catalog) {
  MatchModels models;
  models.text_encoder = std::make_unique<ClassicalTextEncoder>(load_text_encoder(ws));
  if (need_index) {
    models.index = load_workspace_index(ws, "text");
    if (std::filesystem::exists(ws.index_path("image")))
      models.image_index = load_workspace_index(ws, "image");
  }
  if (need_decider) {
    FeatureLayout decider_layout;
    models.decider = std::make_unique<Decider>(load_decider(ws, &decider_layout));
    layout = decider_layout;
  }
  models.layout = layout.value_or(default_layout(ws, models.text_encoder->name()));
  if (models.layout.image && ws.catalog().vector_dim("image") == 0)
    fail(
        "{}: the decider uses image features but the catalog has no image vectors; run `doppel "
        "embed {}` with a trained image encoder",
        ws.root().string(), ws.root().string());
  if (need_catalog)  // the featurizer keeps its own copy of the vectors
    models.featurizer = std::make_unique<PairFeaturizer>(
        ws.catalog().all_listings(), *models.text_encoder, ws.catalog().vectors("text"),
        ws.catalog().vectors("image"), models.layout);
  return models;
}

}  // namespace doppel
