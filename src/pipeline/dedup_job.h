// The batch dedup job: candidates (top-k by text vector ∪ top-k by image vector ∪ shared codes)
// -> decider -> clusters -> pairs.csv + clusters.csv. Sharded (options.shard, see
// pipeline/shards.h), a run stops after the decider and writes the scored candidate pairs of its
// listings; merge_dedup_shards() then clusters the union of all shards into the same files one
// unsharded run writes. Neither holds the catalog: listings are read from catalog.db a block at a
// time, and what stays in memory is the searched listings' vectors, the candidate pairs with their
// scores, and the ids of the listings in accepted pairs.
#pragma once

#include <filesystem>
#include <span>

#include "cluster/clusterer.h"
#include "pipeline/shards.h"
#include "pipeline/workspace.h"

namespace doppel {

struct DedupOptions {
  std::filesystem::path out_dir;  // receives pairs.csv and clusters.csv
  int k = 10;                     // candidates per listing by text vector
  int image_k = 10;               // and by image vector (when ws/index/image.index exists)
  bool exact_keys = true;         // and listings sharing a code (listing_codes)
  Linkage linkage = Linkage::kAverage;
  size_t max_cluster_size = 200;
  // A shard of the listings: candidates of its listings only (an exact-key pair belongs to the
  // shard of its smaller key's listing), scored and written to out_dir for merge_dedup_shards.
  Shard shard;
};

struct DedupSummary {
  size_t listings = 0;
  size_t candidate_pairs = 0;  // the union of the three sources
  size_t text_candidates = 0, image_candidates = 0, exact_key_candidates = 0;
  size_t accepted_pairs = 0;      // decider confidence >= threshold
  size_t clusters = 0;            // groups of two or more listings
  size_t clustered_listings = 0;  // listings in those groups
  size_t largest_cluster = 0;
  float threshold = 0;
};

// pairs.csv: id_a,id_b,confidence for every accepted pair, most confident first.
// clusters.csv: id,cluster_id for every listing; cluster_id is the id of the cluster's first
// listing (by key), so a singleton is its own cluster.
// A shard run writes out_dir/shard.json and out_dir/scored_pairs.bin instead (the summary's
// cluster counts stay 0); its listings count is the shard's.
DedupSummary run_dedup(Workspace& ws, const DedupOptions& options);

// Clusters the scored pairs of a complete set of dedup shards (read_complete_shard_set) made from
// this workspace's current state into options.out_dir, as run_dedup does unsharded; the options'
// linkage and cluster size apply, its candidate options were the shards'. The per-source
// candidate counts stay 0 (a pair can be found from both of its listings' shards).
DedupSummary merge_dedup_shards(Workspace& ws, std::span<const std::filesystem::path> dirs,
                                const DedupOptions& options);

}  // namespace doppel
