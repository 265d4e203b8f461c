// An IVF index built in shards (pipeline/shards.h), for catalogs whose index takes hours to fill
// on one machine:
//
//   doppel index ws --spec IVF65536_HNSW32,PQ32,RDisk --train-only
//                              trains the index once, on the sample `doppel index` trains on,
//                              and saves it empty as ws/index/<space>.index.trained
//   (copy the workspace to each machine)
//   doppel index ws --shard i/N --out DIR_i
//                              fills a copy of the trained index with the vectors of shard i's
//                              listings and writes DIR_i/<space>.index (+ .vectors for RDisk)
//   doppel merge ws DIR_0 .. DIR_{N-1}
//                              merges the shards' lists (index/vector_index.h, merge_index) into
//                              ws/index/<space>.index and its state, as `doppel index` would
//
// The merged index is the one `doppel index ws --spec SPEC` builds on one machine: the same
// training sample, and each inverted list in key order. Only IVF specs without an RFlat or
// Refine(SQ8) stage build this way (an HNSW graph or a refine table is not split by key).
//
// An index shard's digest covers the catalog's listings, the space's vector log head and the
// trained file's bytes: merge refuses shards of another catalog state or another training.
#pragma once

#include <filesystem>
#include <span>
#include <string>

#include "pipeline/shards.h"
#include "pipeline/workspace.h"

namespace doppel {

// ws/index/<space>.index.trained
std::filesystem::path trained_index_path(const Workspace& ws, const std::string& space);

// Trains an index of `spec` over `space` and saves it, empty, to trained_index_path. Error when
// the spec is not one that builds in shards, or the space holds no vectors.
void train_index_for_shards(const Workspace& ws, const std::string& spec, const std::string& space);

struct IndexShardSummary {
  size_t listings = 0;  // in the shard
  size_t vectors = 0;   // of those listings, added
  std::string spec;
};

// Fills a copy of the trained index with the `space` vectors of the shard's listings; writes
// out_dir/<space>.index and out_dir/shard.json. Error when no trained index is there.
IndexShardSummary index_shard(const Workspace& ws, Shard shard,
                              const std::filesystem::path& out_dir, const std::string& space);

struct IndexMergeSummary {
  std::string space;
  std::string spec;
  size_t vectors = 0;
};

// Checks the folders (a complete set of index shards of this catalog state and training), merges
// their indexes and saves the result as the workspace's index of that space, with its state.
// Nothing in the workspace changes unless every shard merges.
IndexMergeSummary merge_index_shards(Workspace& ws, std::span<const std::filesystem::path> dirs);

}  // namespace doppel
