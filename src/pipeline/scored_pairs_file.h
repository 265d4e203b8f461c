// scored_pairs.bin — the scored candidate pairs a dedup shard hands to `doppel merge`
// (docs/shard_format.md): magic "DPLPAIR1", u64 count, then per pair i64 key_a, i64 key_b,
// f32 confidence, little-endian, key_a < key_b, sorted by (key_a, key_b). Sorted files merge as
// sorted runs, so a merge holds one pair per file, not every shard's pairs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <span>

#include "cluster/clusterer.h"

namespace doppel {

// Writes `pairs` (sorted by (a, b), a < b) atomically.
void save_scored_pairs(const std::filesystem::path& path, std::span<const ScoredPair> pairs);

// Reads one file a pair at a time.
class ScoredPairsReader {
 public:
  // Error naming the file when it is not a scored pairs file or its size disagrees with the
  // count in its header.
  explicit ScoredPairsReader(const std::filesystem::path& path);

  // The next pair into `pair`; false at the end. Error naming the file and the pair's position
  // when the pairs are not strictly ascending with a < b (a damaged file).
  bool next(ScoredPair& pair);

 private:
  std::filesystem::path path_;
  std::ifstream in_;
  uint64_t count_ = 0;
  uint64_t read_ = 0;
  ScoredPair last_{};
};

// Every pair of the files once, ascending by (a, b), to `visit`. A pair in several files (found
// from both of its listings' shards, and scored identically in each) is given with its highest
// confidence, as cluster_pairs would take it.
void merge_scored_pairs(std::span<const std::filesystem::path> files,
                        const std::function<void(const ScoredPair&)>& visit);

}  // namespace doppel
