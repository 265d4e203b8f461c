// MatchModels — everything a dedup, eval or online match needs, loaded from a workspace once:
// the classical text encoder, the decider and the layout of its features, and (optionally) the
// catalog's listings with their pair-feature profiles and stored vectors, and the vector indexes.
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "decide/decider.h"
#include "index/vector_index.h"
#include "pipeline/feature_layout.h"
#include "pipeline/pair_featurizer.h"
#include "pipeline/workspace.h"
#include "text/classical_encoder.h"

namespace doppel {

struct MatchModels {
  std::unique_ptr<ClassicalTextEncoder> text_encoder;
  FeatureLayout layout;                        // of the decider's features, or as given
  std::unique_ptr<PairFeaturizer> featurizer;  // null when loaded with need_catalog = false
  std::unique_ptr<Decider> decider;            // null when loaded with need_decider = false
  std::unique_ptr<VectorIndex> index;          // the text index; null when need_index = false
  std::unique_ptr<VectorIndex> image_index;    // null unless need_index and ws/index/image.index

  // With need_decider, the featurizer computes the decider's features (its layout is read from
  // the decider's feature names); without, `layout`, or default_layout() when none is given.
  // Without need_catalog neither listings nor vectors are loaded (the server and dedup shards
  // read the listings they need: stored_listings below).
  static MatchModels load(const Workspace& ws, bool need_decider, bool need_index,
                          std::optional<FeatureLayout> layout = {}, bool need_catalog = true);
};

// The decider features a workspace gets unless told otherwise: the classical pair features with
// the text cosine; the classical vectors' cosine beside it when the stored text vectors come from
// another encoder than `classical_encoder` (the name of the workspace's classical one); and the
// image features when the catalog holds image vectors.
FeatureLayout default_layout(const Workspace& ws, std::string_view classical_encoder);

// The stored listings of `keys` (keys of no stored listing are left out) with their text and
// image vectors, in a featurizer of `layout`: what a reader that does not hold the catalog
// featurises. `classical` must outlive the featurizer.
PairFeaturizer stored_listings(const CatalogStore& catalog, std::span<const int64_t> keys,
                               const ClassicalTextEncoder& classical, const FeatureLayout& layout);

// Loads ws/models/decider and the layout of its features; Error telling the user to train it
// when missing.
Decider load_decider(const Workspace& ws, FeatureLayout* layout);

}  // namespace doppel
