// Cluster quality of clusterings stored as files: doppel dedup's clusters.csv (or any other
// clusterer's) scored against a ground-truth file, both CSV with the columns id,cluster_id.
//
// The items evaluated are the ids of the truth file. The predicted file must list each of them;
// it may list more (a catalog clustered whole, scored on its test groups): those extra items are
// kNotEvaluated (eval/cluster_metrics.h), so wrongly joining one to an evaluated item still costs
// precision.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>

#include "eval/cluster_metrics.h"

namespace doppel {

struct ClusterScores {
  std::string name;               // what was scored: the predicted file, or "singletons"
  size_t items = 0;               // evaluated items
  size_t duplicate_items = 0;     // evaluated items whose true group has 2+ items
  size_t predicted_clusters = 0;  // predicted clusters of 2+ items that hold an evaluated item
  PairwiseClusterMetrics pairwise;
  double per_item_f1 = 0;             // over every evaluated item
  double per_item_f1_duplicates = 0;  // over the duplicate items only
};

// Throws doppel::Error naming the file when either file is malformed (line), lists an id twice,
// or when `predicted` lacks an id of `truth`.
ClusterScores score_cluster_file(const std::filesystem::path& truth,
                                 const std::filesystem::path& predicted);

// The reference every clusterer must beat: each item of `truth` alone.
ClusterScores score_singletons(const std::filesystem::path& truth);

// One Markdown table row per score: clustering | pairwise P / R / F1 | per-item F1 | per-item F1
// of duplicates | predicted clusters.
std::string cluster_scores_markdown(std::span<const ClusterScores> scores);

}  // namespace doppel
