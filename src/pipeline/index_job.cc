#include "pipeline/index_job.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>

#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace doppel {
namespace {

constexpr int kStateVersion = 1;

struct IndexState {
  std::string spec;
  size_t count = 0;
  int64_t vector_log_seq = 0;
};

std::filesystem::path state_path(const Workspace& ws, const std::string& space) {
  auto path = ws.index_path(space);
  path += ".json";
  return path;
}

IndexState load_state(const Workspace& ws, const std::string& space) {
  auto path = state_path(ws, space);
  if (!std::filesystem::exists(path))
    fail("{}: missing (the index state is written by `doppel index {}`)", path.string(),
         ws.root().string());
  try {
    auto state = nlohmann::json::parse(read_file(path));
    if (state.at("format") != "doppel-index-state" || state.at("version") != kStateVersion)
      fail("{}: not a doppel index state of version {}", path.string(), kStateVersion);
    return {state.at("spec").get<std::string>(), state.at("count").get<size_t>(),
            state.at("vector_log_seq").get<int64_t>()};
  } catch (const nlohmann::json::exception& e) {
    fail("{}: {}", path.string(), e.what());
  }
}

std::unique_ptr<VectorIndex> load_saved_index(const Workspace& ws, const std::string& space) {
  auto path = ws.index_path(space);
  if (!std::filesystem::exists(path))
    fail("{}: no index; run `doppel index {}` first", path.string(), ws.root().string());
  return load_index(path);
}

}  // namespace

std::unique_ptr<VectorIndex> new_trained_index(const Workspace& ws, const std::string& spec,
                                               const std::string& space) {
  const CatalogStore& catalog = ws.catalog();
  const std::vector<int64_t> keys = catalog.vector_keys(space);
  if (keys.empty())
    fail("{}: no '{}' vectors stored; run `doppel embed {}` first", ws.root().string(), space,
         ws.root().string());
  auto index = make_index(spec, catalog.vector_dim(space));
  if (index->is_trained()) return index;
  constexpr size_t kMaxTrain = 200000;
  std::vector<size_t> order(keys.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(42));
  order.resize(std::min(keys.size(), kMaxTrain));
  std::vector<int64_t> sample(order.size());
  for (size_t i = 0; i < order.size(); ++i) sample[i] = keys[order[i]];
  const auto rows = catalog.vectors(space, sample);
  spdlog::info("training {} on {} vectors", spec, rows.keys.size());
  index->train(rows.keys.size(), rows.data.data());
  return index;
}

std::unique_ptr<VectorIndex> build_index(Workspace& ws, const std::string& spec,
                                         const std::string& space) {
  // The head is read before the vectors: a write racing with the build is then re-applied by
  // the next update rather than lost.
  const CatalogStore& catalog = ws.catalog();
  const int64_t seq = catalog.vector_log_head(space);
  auto index = new_trained_index(ws, spec, space);
  int64_t after = std::numeric_limits<int64_t>::min();
  add_pages(*index, catalog.vector_count(space), "index " + space, [&] {
    auto page = catalog.vectors_after(space, after, kIndexPage);
    if (!page.keys.empty()) after = page.keys.back();
    return page;
  });
  save_workspace_index(ws, space, *index, seq);
  return index;
}

void add_pages(VectorIndex& index, size_t total, const std::string& progress_label,
               const std::function<CatalogStore::VectorSet()>& next_page) {
  Progress progress(progress_label, total);
  for (;;) {
    const CatalogStore::VectorSet page = next_page();
    if (page.keys.empty()) break;
    if (page.dim != index.dim())
      fail("index {}: holds {}-d vectors, the catalog's are {}-d", index.spec(), index.dim(),
           page.dim);
    index.add(page.keys.size(), page.data.data(), page.keys.data());
    progress.advance(page.keys.size());
  }
  progress.finish();
}

void save_workspace_index(const Workspace& ws, const std::string& space, const VectorIndex& index,
                          int64_t seq) {
  index.save(ws.index_path(space));
  nlohmann::json state = {{"format", "doppel-index-state"}, {"version", kStateVersion},
                          {"space", space},                 {"spec", index.spec()},
                          {"count", index.size()},          {"vector_log_seq", seq}};
  write_file_atomic(state_path(ws, space), state.dump(2) + "\n");
}

VectorLogDelta read_vector_log(const CatalogStore& catalog, const std::string& space,
                               int64_t since) {
  VectorLogDelta delta;
  delta.head = catalog.vector_log_head(space);
  std::vector<int64_t> written;
  for (const auto& change : catalog.vector_changes_since(space, since)) {
    delta.touched.push_back(change.key);
    if (!change.deleted) written.push_back(change.key);
  }
  delta.written = catalog.vectors(space, written);
  return delta;
}

IndexUpdate apply_vector_log(VectorIndex& index, const VectorLogDelta& delta,
                             const std::filesystem::path& index_path) {
  const auto& vectors = delta.written;
  if (!vectors.keys.empty() && vectors.dim != index.dim())
    fail("{}: the index holds {}-d vectors but the catalog now holds {}-d; rebuild it with "
         "`doppel index`",
         index_path.string(), index.dim(), vectors.dim);
  index.remove(delta.touched.size(), delta.touched.data());
  if (!vectors.keys.empty())
    index.add(vectors.keys.size(), vectors.data.data(), vectors.keys.data());
  IndexUpdate update;
  update.written = vectors.keys.size();
  update.removed = delta.touched.size() - vectors.keys.size();
  update.size = index.size();
  return update;
}

CaughtUpIndex load_caught_up_index(const Workspace& ws, const std::string& space) {
  CaughtUpIndex out;
  out.index = load_saved_index(ws, space);
  const auto delta = read_vector_log(ws.catalog(), space, load_state(ws, space).vector_log_seq);
  out.update = apply_vector_log(*out.index, delta, ws.index_path(space));
  out.seq = delta.head;
  return out;
}

IndexUpdate update_index(Workspace& ws, const std::string& space,
                         const std::string& search_params) {
  auto caught_up = load_caught_up_index(ws, space);
  if (!search_params.empty()) {
    try {
      caught_up.index->set_search_params(search_params);
    } catch (const Error& e) {
      fail("{}: {}", ws.index_path(space).string(), e.what());
    }
  }
  save_workspace_index(ws, space, *caught_up.index, caught_up.seq);
  caught_up.update.spec = caught_up.index->spec();
  return caught_up.update;
}

std::unique_ptr<VectorIndex> load_workspace_index(const Workspace& ws, const std::string& space) {
  auto index = load_saved_index(ws, space);
  const IndexState state = load_state(ws, space);
  const int64_t head = ws.catalog().vector_log_head(space);
  const auto path = ws.index_path(space).string();
  if (state.vector_log_seq != head)
    fail("{}: stale: {} vector change(s) in catalog.db since it was built; refresh it with "
         "`doppel index {} --update` (or rebuild it with `doppel index {}`)",
         path, ws.catalog().vector_changes_since(space, state.vector_log_seq).size(),
         ws.root().string(), ws.root().string());
  const size_t stored = ws.catalog().vector_count(space);
  const int dim = ws.catalog().vector_dim(space);
  if (index->size() != stored || index->dim() != dim)
    fail("{}: index holds {} vectors of dim {} but catalog.db has {} of dim {}; rebuild it with "
         "`doppel index {}`",
         path, index->size(), index->dim(), stored, dim, ws.root().string());
  return index;
}

}  // namespace doppel
