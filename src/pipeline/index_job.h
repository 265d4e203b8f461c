// Building the vector index of one vector space from the vectors stored in catalog.db.
#pragma once

#include <memory>
#include <string>

#include "index/vector_index.h"
#include "pipeline/workspace.h"

namespace doppel {

// Builds an index of `spec` over every vector of `space`, trains it on a seeded sample when the
// spec needs training, and saves it to ws/index/<space>.index. Returns the built index.
std::unique_ptr<VectorIndex> build_index(Workspace& ws, const std::string& spec,
                                         const std::string& space = "text");

// Loads ws/index/<space>.index, checking that it covers `stored` (the space's vectors in
// catalog.db): an index left stale by a later embed is an error, not silently wrong results.
std::unique_ptr<VectorIndex> load_workspace_index(const Workspace& ws,
                                                  const CatalogStore::VectorSet& stored,
                                                  const std::string& space = "text");

}  // namespace doppel
