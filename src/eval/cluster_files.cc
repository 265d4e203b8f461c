#include "eval/cluster_files.h"

#include <fmt/format.h>

#include <unordered_map>
#include <vector>

#include "catalog/readers.h"
#include "util/error.h"

namespace doppel {
namespace {

namespace fs = std::filesystem;

// Cluster ids of one file, interned to integers, by item id.
std::unordered_map<std::string, int64_t> read_clusters(const fs::path& file) {
  constexpr std::string_view kColumns[] = {"id", "cluster_id"};
  std::unordered_map<std::string, int64_t> cluster_of, interned;
  for (auto& row : read_csv_columns(file, kColumns)) {
    const int64_t cluster = interned.try_emplace(row[1], int64_t(interned.size())).first->second;
    if (!cluster_of.emplace(row[0], cluster).second)
      fail("{}: id '{}' twice", file.string(), row[0]);
  }
  return cluster_of;
}

ClusterScores score(std::string name, std::span<const int64_t> predicted,
                    std::span<const int64_t> truth) {
  ClusterScores s;
  s.name = std::move(name);
  s.pairwise = pairwise_cluster_metrics(predicted, truth);
  s.per_item_f1 = per_item_f1(predicted, truth);
  s.per_item_f1_duplicates = per_item_f1(predicted, truth, /*min_true_size=*/2);
  std::unordered_map<int64_t, size_t> true_size, predicted_size;
  std::unordered_map<int64_t, bool> holds_evaluated;
  for (size_t i = 0; i < truth.size(); ++i) {
    ++predicted_size[predicted[i]];
    if (truth[i] == kNotEvaluated) continue;
    ++s.items;
    ++true_size[truth[i]];
    holds_evaluated[predicted[i]] = true;
  }
  for (size_t i = 0; i < truth.size(); ++i)
    s.duplicate_items += truth[i] != kNotEvaluated && true_size[truth[i]] >= 2;
  for (const auto& [cluster, size] : predicted_size)
    s.predicted_clusters += size >= 2 && holds_evaluated.count(cluster);
  return s;
}

}  // namespace

ClusterScores score_cluster_file(const fs::path& truth_file, const fs::path& predicted_file) {
  const auto truth_of = read_clusters(truth_file);
  const auto predicted_of = read_clusters(predicted_file);
  for (const auto& [id, cluster] : truth_of) {
    if (!predicted_of.count(id)) {
      fail("{}: no cluster for id '{}' of {} (it must cluster every item of the truth file)",
           predicted_file.string(), id, truth_file.string());
    }
  }
  std::vector<int64_t> predicted, truth;
  for (const auto& [id, cluster] : predicted_of) {
    predicted.push_back(cluster);
    const auto known = truth_of.find(id);
    truth.push_back(known == truth_of.end() ? kNotEvaluated : known->second);
  }
  return score(predicted_file.string(), predicted, truth);
}

ClusterScores score_singletons(const fs::path& truth_file) {
  std::vector<int64_t> predicted, truth;
  for (const auto& [id, cluster] : read_clusters(truth_file)) {
    predicted.push_back(int64_t(predicted.size()));
    truth.push_back(cluster);
  }
  return score("singletons", predicted, truth);
}

std::string cluster_scores_markdown(std::span<const ClusterScores> scores) {
  std::string out =
      "| clustering | pairwise precision | pairwise recall | pairwise F1 | per-item F1 | "
      "per-item F1, duplicates | clusters of 2+ |\n|---|---|---|---|---|---|---|\n";
  for (const ClusterScores& s : scores) {
    out += fmt::format("| {} | {:.4f} | {:.4f} | {:.4f} | {:.4f} | {:.4f} | {} |\n", s.name,
                       s.pairwise.precision, s.pairwise.recall, s.pairwise.f1, s.per_item_f1,
                       s.per_item_f1_duplicates, s.predicted_clusters);
  }
  return out;
}

}  // namespace doppel
