// Sharded batch work, so a job runner can fan `embed`, `index` and `dedup` out over machines (each
// with a copy of the workspace) and fold the results back with `doppel merge`:
//
//   doppel embed ws --shard i/N --out DIR_i   encodes the listings of shard i and writes their
//                                             vectors to DIR_i instead of catalog.db
//   doppel index ws --shard i/N --out DIR_i   fills a copy of the index trained by `doppel index
//                                             --train-only` with shard i's vectors
//                                             (pipeline/index_shards.h)
//   doppel dedup ws --shard i/N --out DIR_i   finds and scores the candidate pairs of the listings
//                                             of shard i and writes them to DIR_i
//   doppel merge ws DIR_0 .. DIR_{N-1} [--out OUT]
//                                             checks that the folders are one complete set made
//                                             from this catalog, then stores the vectors or the
//                                             merged index, or clusters the pairs into
//                                             OUT/pairs.csv and OUT/clusters.csv — the same
//                                             files one unsharded dedup writes
//
// A listing belongs to shard fnv1a64(id) mod N, which depends on nothing but its id.
//
// A shard folder holds shard.json:
//   {"format": "doppel-shard", "version": 1, "job": "embed"|"index"|"dedup", "shard": i,
//    "count": N, "catalog": "<digest>", "listings": <listings in the shard>, ...job fields}
// where the digest covers the catalog's listings (keys and ids) and, for dedup, the vector log
// heads and the decider (for index, the space's log head and the trained index), so shards of
// different catalog states are never mixed. Embed shards
// add "spaces": {"text": {"encoder": name, "file": "text.vectors"}, ...} (space_vectors.h);
// dedup shards add "pairs": "scored_pairs.bin" and the candidate counts (docs/shard_format.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/workspace.h"

namespace doppel {

struct Shard {
  int index = 0;
  int count = 1;  // 1: the whole catalog, no sharding

  // "i/N" with 0 <= i < N <= 4096; Error naming the text otherwise.
  static Shard parse(std::string_view text);
  bool whole() const { return count == 1; }
  bool contains(std::string_view listing_id) const;
  std::string name() const;  // "i/N"
};

// The keys of the catalog's listings that belong to `shard`, ascending (ids are read, not
// listings).
std::vector<int64_t> shard_keys(const CatalogStore& catalog, Shard shard);

// The listings of `shard` in key order, a page at a time: the whole catalog through
// CatalogStore::listings_after; a shard through its keys (shard_keys), so that it reads only its
// own listings. Holds one page of listings (and a shard's keys), never the shard's listings.
class ShardPages {
 public:
  ShardPages(const CatalogStore& catalog, Shard shard, size_t page_size);

  size_t size() const { return size_; }  // listings in the shard
  std::vector<Listing> next();           // the next page; empty after the last one

 private:
  const CatalogStore& catalog_;
  size_t page_size_;
  bool whole_;
  std::vector<int64_t> keys_;  // a shard's keys; empty for the whole catalog
  size_t next_key_ = 0;
  int64_t after_;  // the whole catalog: the last key read
  size_t size_;
};

// A hex digest of the catalog's listings (keys and ids), plus `extra` (e.g. vector log heads):
// equal only when shards were made from the same catalog state.
std::string catalog_digest(const CatalogStore& catalog, std::string_view extra = {});

struct ShardManifest {
  std::string job;  // "embed" or "dedup"
  Shard shard;
  std::string catalog;  // catalog_digest when the shard was made
  size_t listings = 0;  // in the shard
  std::string fields;   // the job's own fields, a JSON object
};

void write_shard_manifest(const std::filesystem::path& dir, const ShardManifest& manifest);
// Error naming the file when it is missing, malformed or not a shard manifest.
ShardManifest read_shard_manifest(const std::filesystem::path& dir);

// The manifests of `dirs`, checked to be shards 0..N-1 of one job and one N, each once, made from
// one catalog state; Error naming the first folder that breaks a rule, or the missing shards.
// The caller compares manifests[0].catalog with the workspace's digest for that job.
std::vector<ShardManifest> read_complete_shard_set(std::span<const std::filesystem::path> dirs);

// Error unless `manifest` was made from the catalog state `digest` ("... re-run the shards").
void check_same_catalog(const ShardManifest& manifest, const std::filesystem::path& dir,
                        std::string_view digest);

}  // namespace doppel
