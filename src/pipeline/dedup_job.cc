#include "pipeline/dedup_job.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "pipeline/candidates.h"
#include "pipeline/match_models.h"
#include "util/csv_write.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace doppel {
namespace {

std::vector<float> score_in_chunks(const MatchModels& models, std::span<const KeyPair> pairs) {
  constexpr size_t kChunk = 20000;
  std::vector<float> confidence;
  confidence.reserve(pairs.size());
  Progress progress("decide", pairs.size());
  for (size_t start = 0; start < pairs.size(); start += kChunk) {
    auto chunk = pairs.subspan(start, std::min(kChunk, pairs.size() - start));
    auto scores = score_pairs(*models.featurizer, *models.decider, chunk);
    confidence.insert(confidence.end(), scores.begin(), scores.end());
    progress.advance(chunk.size());
  }
  progress.finish();
  return confidence;
}

}  // namespace

DedupSummary run_dedup(Workspace& ws, const DedupOptions& options) {
  if (options.k < 1) fail("--k must be at least 1, got {}", options.k);
  auto models = MatchModels::load(ws, /*need_decider=*/true, /*need_index=*/true);
  const auto& featurizer = *models.featurizer;
  DedupSummary summary;
  summary.listings = featurizer.size();
  summary.threshold = models.decider->threshold();

  std::vector<int64_t> keys;
  for (const auto& listing : featurizer.listings()) keys.push_back(listing.key);
  std::vector<std::vector<KeyPair>> sources;
  sources.push_back(candidate_pairs(nearest_neighbours(*models.index, featurizer, keys, options.k)));
  summary.text_candidates = sources.back().size();
  if (models.image_index && options.image_k > 0) {
    sources.push_back(candidate_pairs(nearest_neighbours(*models.image_index, featurizer, keys,
                                                         options.image_k, Modality::kImage)));
    summary.image_candidates = sources.back().size();
  }
  if (options.exact_keys) {
    sources.push_back(exact_key_pairs(featurizer));
    summary.exact_key_candidates = sources.back().size();
  }
  const auto pairs = union_pairs(sources);
  summary.candidate_pairs = pairs.size();
  auto confidence = score_in_chunks(models, pairs);

  std::vector<ScoredPair> scored(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i)
    scored[i] = {pairs[i].first, pairs[i].second, confidence[i]};
  // The guard asks for the cross pairs of two groups that were never candidates, one batch per
  // attempted merge.
  PairScorer scorer = [&](std::span<const KeyPair> unscored) {
    return score_pairs(featurizer, *models.decider, unscored);
  };
  ClusterOptions cluster_options;
  cluster_options.threshold = summary.threshold;
  cluster_options.linkage = options.linkage;
  cluster_options.max_cluster_size = options.max_cluster_size;
  auto cluster_of = cluster_pairs(scored, scorer, cluster_options);

  std::filesystem::create_directories(options.out_dir);
  std::vector<size_t> accepted;
  for (size_t i = 0; i < scored.size(); ++i)
    if (scored[i].confidence >= summary.threshold) accepted.push_back(i);
  std::stable_sort(accepted.begin(), accepted.end(),
                   [&](size_t x, size_t y) { return scored[x].confidence > scored[y].confidence; });
  summary.accepted_pairs = accepted.size();
  auto pairs_out = create_file(options.out_dir / "pairs.csv");
  pairs_out << "id_a,id_b,confidence\n";
  for (size_t i : accepted)
    pairs_out << fmt::format("{},{},{:.4f}\n", csv_field(featurizer.listing(scored[i].a).id),
                             csv_field(featurizer.listing(scored[i].b).id), scored[i].confidence);

  std::map<int64_t, size_t> cluster_sizes;
  for (const auto& [key, cluster] : cluster_of) ++cluster_sizes[cluster];
  for (const auto& [cluster, size] : cluster_sizes) {
    if (size < 2) continue;
    ++summary.clusters;
    summary.clustered_listings += size;
    summary.largest_cluster = std::max(summary.largest_cluster, size);
  }
  auto clusters_out = create_file(options.out_dir / "clusters.csv");
  clusters_out << "id,cluster_id\n";
  for (const auto& listing : featurizer.listings()) {
    auto it = cluster_of.find(listing.key);
    int64_t cluster = it == cluster_of.end() ? listing.key : it->second;
    clusters_out << fmt::format("{},{}\n", csv_field(listing.id),
                                csv_field(featurizer.listing(cluster).id));
  }
  return summary;
}

}  // namespace doppel
