// MatchModels — everything a dedup, eval or online match needs, loaded from a workspace once:
// the catalog's listings with their pair-feature profiles, the text encoder, the stored text
// vectors, the decider and (optionally) the vector index.
#pragma once

#include <memory>

#include "decide/decider.h"
#include "index/vector_index.h"
#include "pipeline/pair_featurizer.h"
#include "pipeline/workspace.h"
#include "text/classical_encoder.h"

namespace doppel {

struct MatchModels {
  std::unique_ptr<ClassicalTextEncoder> text_encoder;
  std::unique_ptr<PairFeaturizer> featurizer;
  std::unique_ptr<Decider> decider;       // null when loaded with need_decider = false
  std::unique_ptr<VectorIndex> index;     // null when loaded with need_index = false
  CatalogStore::VectorSet text_vectors;

  static MatchModels load(const Workspace& ws, bool need_decider, bool need_index);
};

// Loads ws/models/decider; Error telling the user to train it when missing.
Decider load_decider(const Workspace& ws);

}  // namespace doppel
