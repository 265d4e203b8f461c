// The index implementations behind make_index / load_index (index_factory.cc). Internal to the
// index module: callers use vector_index.h.
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>

#include "index/vector_index.h"

namespace doppel {

// FAISS (faiss_index.cc): "Flat", "HNSW<M>...", "[OPQ<m>,|PCA<d>,]IVF<nlist>,Flat|SQ8|PQ<m>...";
// files with magic DPLINDEX (RDisk: plus "<path>.vectors").
std::unique_ptr<VectorIndex> make_faiss_index(std::string_view spec, int dim);
std::unique_ptr<VectorIndex> load_faiss_index(const std::filesystem::path& path);
// Whether merge_index takes indexes of this FAISS spec (IVF without RFlat / Refine(SQ8)); Error
// on a bad spec.
bool faiss_spec_merges(std::string_view spec);

}  // namespace doppel
