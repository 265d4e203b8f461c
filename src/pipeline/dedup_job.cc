#include "pipeline/dedup_job.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>

#include "pipeline/candidates.h"
#include "pipeline/match_models.h"
#include "pipeline/recent_listings.h"
#include "pipeline/scored_pairs_file.h"
#include "util/csv_write.h"
#include "util/error.h"
#include "util/files.h"
#include "util/hash.h"
#include "util/progress.h"

namespace doppel {
namespace {

constexpr const char* kPairsFile = "scored_pairs.bin";

// What a dedup shard's output depends on besides the listings: the vectors, the decider, the
// indexes and the candidate options. Shards and merge must agree on all of it.
std::string dedup_digest(const Workspace& ws, const DedupOptions& options) {
  const CatalogStore& catalog = ws.catalog();
  std::string extra = fmt::format("text {} image {} decider {:016x} k {} image_k {} exact {}",
                                  catalog.vector_log_head("text"), catalog.vector_log_head("image"),
                                  fnv1a64(read_file(ws.decider_dir() / "decider.json")), options.k,
                                  options.image_k, options.exact_keys);
  for (const char* space : {"text", "image"}) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(ws.index_path(space), ec);
    extra += fmt::format(" {}.index {}", space, ec ? 0 : size);
  }
  return catalog_digest(catalog, extra);
}

// Clusters the accepted candidate pairs (confidence >= the threshold) and writes pairs.csv and
// clusters.csv (see run_dedup), holding only the listings in accepted pairs: the rest are read
// from catalog.db. The rejected candidates are not kept: average linkage asks the scorer for a
// cross pair it has no score of, and scoring a rejected candidate again gives its score again.
void cluster_and_write(const CatalogStore& catalog, const MatchModels& models,
                       std::vector<ScoredPair>& accepted, const DedupOptions& options,
                       DedupSummary& summary) {
  // The guard asks for the cross pairs of groups that were never candidates, in batches.
  RecentListings recent(catalog, *models.text_encoder, models.layout, /*capacity=*/32768);
  size_t cross_pairs = 0;
  PairScorer scorer = [&](std::span<const KeyPair> unscored) {
    cross_pairs += unscored.size();
    return score_pairs(recent.holding(unscored), *models.decider, unscored);
  };
  ClusterOptions cluster_options;
  cluster_options.threshold = summary.threshold;
  cluster_options.linkage = options.linkage;
  cluster_options.max_cluster_size = options.max_cluster_size;
  cluster_options.show_progress = true;
  auto cluster_of = cluster_pairs(accepted, scorer, cluster_options);
  spdlog::info("clustering scored {} cross pairs of groups, reading {} listings", cross_pairs,
               recent.reads());

  std::map<int64_t, size_t> cluster_sizes;
  for (const auto& [key, cluster] : cluster_of) ++cluster_sizes[cluster];
  for (const auto& [cluster, size] : cluster_sizes) {
    if (size < 2) continue;
    ++summary.clusters;
    summary.clustered_listings += size;
    summary.largest_cluster = std::max(summary.largest_cluster, size);
  }

  // One pass over the catalog's ids in key order. A cluster's id is its smallest key, so the
  // cluster's first listing is met before the others; the ids of the listings in accepted pairs
  // (all in cluster_of) are kept for pairs.csv.
  std::filesystem::create_directories(options.out_dir);
  std::unordered_map<int64_t, std::string> clustered_ids;
  auto clusters_out = create_file(options.out_dir / "clusters.csv");
  clusters_out << "id,cluster_id\n";
  catalog.for_each_id([&](int64_t key, std::string_view id) {
    const auto it = cluster_of.find(key);
    if (it == cluster_of.end()) {
      clusters_out << fmt::format("{},{}\n", csv_field(id), csv_field(id));
      return;
    }
    clustered_ids.emplace(key, id);
    clusters_out << fmt::format("{},{}\n", csv_field(id), csv_field(clustered_ids.at(it->second)));
  });

  std::stable_sort(accepted.begin(), accepted.end(), [](const ScoredPair& x, const ScoredPair& y) {
    return x.confidence > y.confidence;
  });
  summary.accepted_pairs = accepted.size();
  auto pairs_out = create_file(options.out_dir / "pairs.csv");
  pairs_out << "id_a,id_b,confidence\n";
  for (const ScoredPair& p : accepted)
    pairs_out << fmt::format("{},{},{:.4f}\n", csv_field(clustered_ids.at(p.a)),
                             csv_field(clustered_ids.at(p.b)), p.confidence);
}

// Positions of `keys` (ascending) in a breadth-first walk of the candidate pairs between them,
// started from each not yet visited listing in key order. Listings that are candidates of each
// other get near positions, so a block of consecutive positions holds most of its listings'
// partners, and each listing is read and prepared in fewer blocks than in key order.
std::vector<size_t> neighbourhood_positions(std::span<const int64_t> keys,
                                            std::span<const KeyPair> pairs) {
  // The pairs between two of the keys as adjacency lists, compressed rows.
  std::vector<std::pair<size_t, size_t>> edges;
  for (const auto& [a, b] : pairs) {
    const auto i = index_in(keys, a), j = index_in(keys, b);
    if (!i || !j) continue;
    edges.emplace_back(*i, *j);
    edges.emplace_back(*j, *i);
  }
  std::sort(edges.begin(), edges.end());
  std::vector<size_t> first(keys.size() + 1, 0);
  for (const auto& edge : edges) ++first[edge.first + 1];
  for (size_t i = 0; i < keys.size(); ++i) first[i + 1] += first[i];

  constexpr size_t kUnvisited = std::numeric_limits<size_t>::max();
  std::vector<size_t> position(keys.size(), kUnvisited);
  std::vector<size_t> walk;  // indices, in visiting order
  walk.reserve(keys.size());
  for (size_t start = 0; start < keys.size(); ++start) {
    if (position[start] != kUnvisited) continue;
    position[start] = walk.size();
    walk.push_back(start);
    for (size_t next = walk.size() - 1; next < walk.size(); ++next) {
      for (size_t e = first[walk[next]]; e < first[walk[next] + 1]; ++e) {
        const size_t other = edges[e].second;
        if (position[other] != kUnvisited) continue;
        position[other] = walk.size();
        walk.push_back(other);
      }
    }
  }
  return position;
}

// The scored candidate pairs of the shard's listings (every listing when options.shard is
// whole), sorted by (a, b). The listings' nearest neighbours are searched from their vectors
// alone; then the pairs are featurised and scored a block of the listings at a time, with the
// listings they name read from catalog.db through a cache of the 65,536 read last, so the memory
// is the vectors' and the cache's, not the catalog's. A block is consecutive listings of
// neighbourhood_positions' walk, so neighbouring blocks share most of their listings and each
// listing is read and prepared about once. A pair belongs to the block of its smaller key when
// that is the shard's, else of its larger one: each pair is scored once.
std::vector<ScoredPair> score_candidates(const CatalogStore& catalog, const MatchModels& models,
                                         const DedupOptions& options, bool accepted_only,
                                         DedupSummary& summary) {
  constexpr size_t kBlock = 4096;  // listings featurised together
  const std::vector<int64_t> keys = shard_keys(catalog, options.shard);
  summary.listings = keys.size();
  std::vector<std::vector<KeyPair>> searched;
  searched.push_back(
      candidate_pairs(nearest_neighbours(*models.index, catalog.vectors("text", keys), options.k)));
  summary.text_candidates = searched.back().size();
  if (models.image_index && options.image_k > 0) {
    searched.push_back(candidate_pairs(nearest_neighbours(
        *models.image_index, catalog.vectors("image", keys), options.image_k, Modality::kImage)));
    summary.image_candidates = searched.back().size();
  }
  const auto found = union_pairs(searched);
  searched.clear();
  const auto position = neighbourhood_positions(keys, found);
  std::vector<int64_t> ordered(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) ordered[position[i]] = keys[i];
  const auto block_of = [&](const KeyPair& p) {
    const auto owner = index_in(keys, p.first);  // else p.second is the shard's
    return position[owner ? *owner : *index_in(keys, p.second)] / kBlock;
  };
  std::vector<std::vector<KeyPair>> found_by_block((keys.size() + kBlock - 1) / kBlock);
  for (const KeyPair& p : found) found_by_block[block_of(p)].push_back(p);

  std::vector<ScoredPair> scored;
  RecentListings recent(catalog, *models.text_encoder, models.layout, /*capacity=*/65536);
  Progress progress("decide", keys.size());
  for (size_t b = 0; b < found_by_block.size(); ++b) {
    const auto block_keys =
        std::span(ordered).subspan(b * kBlock, std::min(kBlock, keys.size() - b * kBlock));
    std::vector<std::vector<KeyPair>> sources{std::move(found_by_block[b])};
    if (options.exact_keys) {
      sources.push_back(exact_key_pairs(catalog, block_keys));
      summary.exact_key_candidates += sources.back().size();
    }
    const auto pairs = union_pairs(sources);
    const auto confidence = score_pairs(recent.holding(pairs), *models.decider, pairs);
    for (size_t i = 0; i < pairs.size(); ++i)
      if (!accepted_only || confidence[i] >= summary.threshold)
        scored.push_back({pairs[i].first, pairs[i].second, confidence[i]});
    summary.candidate_pairs += pairs.size();
    progress.advance(block_keys.size());
  }
  progress.finish();
  spdlog::info("scoring read {} listings", recent.reads());
  std::sort(scored.begin(), scored.end(), [](const ScoredPair& x, const ScoredPair& y) {
    return std::tie(x.a, x.b) < std::tie(y.a, y.b);
  });
  return scored;
}

// A shard's output for merge_dedup_shards: its scored pairs and its manifest.
void write_shard(const Workspace& ws, const DedupOptions& options,
                 std::span<const ScoredPair> scored, const DedupSummary& summary) {
  std::filesystem::create_directories(options.out_dir);
  save_scored_pairs(options.out_dir / kPairsFile, scored);
  const nlohmann::json fields = {{"pairs", kPairsFile},
                                 {"k", options.k},
                                 {"image_k", options.image_k},
                                 {"exact_keys", options.exact_keys},
                                 {"candidate_pairs", summary.candidate_pairs},
                                 {"text_candidates", summary.text_candidates},
                                 {"image_candidates", summary.image_candidates},
                                 {"exact_key_candidates", summary.exact_key_candidates}};
  write_shard_manifest(options.out_dir, {"dedup", options.shard, dedup_digest(ws, options),
                                         summary.listings, fields.dump()});
}

}  // namespace

DedupSummary run_dedup(Workspace& ws, const DedupOptions& options) {
  if (options.k < 1) fail("--k must be at least 1, got {}", options.k);
  // One read transaction: every read sees one state of the catalog, the one the shard digest
  // names, and the thousands of block reads share one lock of the file.
  const auto snapshot = ws.catalog().snapshot();
  const auto models = MatchModels::load(ws, /*need_decider=*/true, /*need_index=*/true,
                                        std::nullopt, /*need_catalog=*/false);
  DedupSummary summary;
  summary.threshold = models.decider->threshold();
  const bool whole = options.shard.whole();
  auto scored = score_candidates(ws.catalog(), models, options, /*accepted_only=*/whole, summary);
  if (whole)
    cluster_and_write(ws.catalog(), models, scored, options, summary);
  else
    write_shard(ws, options, scored, summary);
  return summary;
}

DedupSummary merge_dedup_shards(Workspace& ws, std::span<const std::filesystem::path> dirs,
                                const DedupOptions& options) {
  const auto manifests = read_complete_shard_set(dirs);
  const auto snapshot = ws.catalog().snapshot();  // as in run_dedup
  if (manifests.front().job != "dedup") {
    fail("{}: an {} shard; merge it without --out", dirs.front().string(), manifests.front().job);
  }
  // The candidate options were the shards': the digest is computed with them.
  const auto fields = nlohmann::json::parse(manifests.front().fields);
  DedupOptions shard_options = options;
  shard_options.k = fields.at("k").get<int>();
  shard_options.image_k = fields.at("image_k").get<int>();
  shard_options.exact_keys = fields.at("exact_keys").get<bool>();
  check_same_catalog(manifests.front(), dirs.front(), dedup_digest(ws, shard_options));

  const auto models = MatchModels::load(ws, /*need_decider=*/true, /*need_index=*/false,
                                        std::nullopt, /*need_catalog=*/false);
  std::vector<std::filesystem::path> files;
  for (size_t i = 0; i < dirs.size(); ++i) {
    const auto shard_fields = nlohmann::json::parse(manifests[i].fields);
    files.push_back(dirs[i] / shard_fields.at("pairs").get<std::string>());
  }
  DedupSummary summary;
  summary.listings = ws.catalog().size();
  summary.threshold = models.decider->threshold();
  std::vector<ScoredPair> accepted;
  merge_scored_pairs(files, [&](const ScoredPair& pair) {
    ++summary.candidate_pairs;
    if (pair.confidence >= summary.threshold) accepted.push_back(pair);
  });
  cluster_and_write(ws.catalog(), models, accepted, options, summary);
  return summary;
}

}  // namespace doppel
