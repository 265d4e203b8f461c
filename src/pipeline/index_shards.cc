#include "pipeline/index_shards.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <span>

#include "index/vector_index.h"
#include "pipeline/index_job.h"
#include "util/error.h"
#include "util/files.h"
#include "util/hash.h"

namespace doppel {
namespace {

// What an index shard depends on besides the listings: the space's vectors and the training.
std::string index_digest(const Workspace& ws, const std::string& space) {
  const auto trained = trained_index_path(ws, space);
  if (!std::filesystem::exists(trained)) {
    fail(
        "{}: missing; train the index first with `doppel index {} --space {} --spec SPEC "
        "--train-only`",
        trained.string(), ws.root().string(), space);
  }
  return catalog_digest(
      ws.catalog(), fmt::format("index {} vectors {} trained {:016x}", space,
                                ws.catalog().vector_log_head(space), fnv1a64(read_file(trained))));
}

std::string index_file(const std::string& space) { return space + ".index"; }

}  // namespace

std::filesystem::path trained_index_path(const Workspace& ws, const std::string& space) {
  auto path = ws.index_path(space);
  path += ".trained";
  return path;
}

void train_index_for_shards(const Workspace& ws, const std::string& spec,
                            const std::string& space) {
  if (!is_mergeable_spec(spec)) {
    fail(
        "index {} cannot be built in shards: only IVF specs without RFlat or Refine(SQ8) merge "
        "(build it on one machine with `doppel index {} --spec ...`)",
        spec, ws.root().string());
  }
  new_trained_index(ws, spec, space)->save(trained_index_path(ws, space));
}

IndexShardSummary index_shard(const Workspace& ws, Shard shard,
                              const std::filesystem::path& out_dir, const std::string& space) {
  const std::string digest = index_digest(ws, space);
  auto index = load_index(trained_index_path(ws, space));
  const std::vector<int64_t> keys = shard_keys(ws.catalog(), shard);
  size_t next = 0;  // the first key of `keys` not read yet
  add_pages(*index, keys.size(), fmt::format("index {} shard {}", space, shard.name()), [&] {
    CatalogStore::VectorSet page;
    while (page.keys.empty() && next < keys.size()) {  // a page of keys may hold no vector
      const size_t n = std::min(kIndexPage, keys.size() - next);
      page = ws.catalog().vectors(space, std::span(keys).subspan(next, n));
      next += n;
    }
    return page;
  });
  std::filesystem::create_directories(out_dir);
  index->save(out_dir / index_file(space));
  const nlohmann::json fields = {
      {"space", space}, {"spec", index->spec()}, {"index", index_file(space)}};
  write_shard_manifest(out_dir, {"index", shard, digest, keys.size(), fields.dump()});
  return {keys.size(), index->size(), index->spec()};
}

IndexMergeSummary merge_index_shards(Workspace& ws, std::span<const std::filesystem::path> dirs) {
  const auto manifests = read_complete_shard_set(dirs);
  if (manifests.front().job != "index") {
    fail("{}: a {} shard, not an index shard", dirs.front().string(), manifests.front().job);
  }
  const auto first = nlohmann::json::parse(manifests.front().fields);
  const std::string space = first.at("space").get<std::string>();
  check_same_catalog(manifests.front(), dirs.front(), index_digest(ws, space));
  const int64_t seq = ws.catalog().vector_log_head(space);
  std::unique_ptr<VectorIndex> merged;
  for (size_t i = 0; i < dirs.size(); ++i) {
    const auto file = dirs[i] / nlohmann::json::parse(manifests[i].fields).at("index");
    auto shard_index = load_index(file);
    spdlog::info("merging {} ({} vectors)", file.string(), shard_index->size());
    if (!merged) {
      merged = std::move(shard_index);
      continue;
    }
    try {
      merge_index(*merged, std::move(shard_index));
    } catch (const Error& e) {
      fail("{}: {}", file.string(), e.what());
    }
  }
  const size_t stored = ws.catalog().vector_count(space);
  if (merged->size() != stored) {
    fail("merge: the shards hold {} {} vectors, catalog.db {}", merged->size(), space, stored);
  }
  save_workspace_index(ws, space, *merged, seq);
  return {space, merged->spec(), merged->size()};
}

}  // namespace doppel
