// The batch dedup job: candidates (top-k by text vector ∪ top-k by image vector ∪ shared model
// numbers) -> decider -> clusters -> pairs.csv + clusters.csv.
#pragma once

#include <filesystem>

#include "cluster/clusterer.h"
#include "pipeline/workspace.h"

namespace doppel {

struct DedupOptions {
  std::filesystem::path out_dir;      // receives pairs.csv and clusters.csv
  int k = 10;                         // candidates per listing by text vector
  int image_k = 10;                   // and by image vector (when ws/index/image.index exists)
  bool exact_keys = true;             // and listings sharing a model number
  Linkage linkage = Linkage::kAverage;
  size_t max_cluster_size = 200;
};

struct DedupSummary {
  size_t listings = 0;
  size_t candidate_pairs = 0;     // the union of the three sources
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
DedupSummary run_dedup(Workspace& ws, const DedupOptions& options);

}  // namespace doppel
