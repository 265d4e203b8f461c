#include "server/live_index.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "util/error.h"

namespace doppel {
namespace {

// The command that rebuilds the index of `space`.
std::string rebuild_command(const Workspace& ws, const std::string& space) {
  return fmt::format("doppel index {}{}", ws.root().string(),
                     space == "text" ? "" : " --space " + space);
}

}  // namespace

LiveIndex::LiveIndex(const Workspace& ws, std::string space, std::unique_ptr<VectorIndex> index,
                     int64_t seq, bool saved)
    : space_(std::move(space)),
      path_(ws.index_path(space_)),
      index_(std::move(index)),
      seq_(seq),
      saved_(saved) {}

LiveIndex LiveIndex::load_saved(const Workspace& ws, const std::string& space,
                                const Expected& expected) {
  auto caught_up = load_caught_up_index(ws, space);
  if (caught_up.update.written + caught_up.update.removed > 0)
    spdlog::info("{} index caught up with catalog.db: {} vector(s) written, {} removed", space,
                 caught_up.update.written, caught_up.update.removed);
  const auto path = ws.index_path(space).string();
  const auto& index = *caught_up.index;
  if (index.size() != expected.vectors)
    fail("{}: holds {} vectors but catalog.db has {}; rebuild it with `{}`", path, index.size(),
         expected.vectors, rebuild_command(ws, space));
  if (index.dim() != expected.dim)
    fail("{}: {}-d vectors, but the {} encoder {} makes {}-d; rebuild it with `{}`", path,
         index.dim(), space, expected.encoder_name, expected.dim, rebuild_command(ws, space));
  return LiveIndex(ws, space, std::move(caught_up.index), caught_up.seq, /*saved=*/true);
}

LiveIndex LiveIndex::load_or_build(const Workspace& ws, const std::string& space,
                                   const std::string& spec, const Expected& expected) {
  if (std::filesystem::exists(ws.index_path(space))) return load_saved(ws, space, expected);
  // The head is read before the rows: a write racing with the read is re-applied by the next
  // catch-up rather than lost (applying is idempotent).
  const int64_t seq = ws.catalog().vector_log_head(space);
  const auto vectors = ws.catalog().vectors(space);
  if (!vectors.keys.empty() && vectors.dim != expected.dim)
    fail(
        "{}: the stored {} vectors are {}-d, but the {} encoder {} makes {}-d; run `doppel "
        "embed {}`",
        ws.catalog_path().string(), space, vectors.dim, space, expected.encoder_name, expected.dim,
        ws.root().string());
  auto index = make_index(spec, expected.dim);
  if (!vectors.keys.empty())
    index->add(vectors.keys.size(), vectors.data.data(), vectors.keys.data());
  spdlog::info(
      "{} index: no saved one, built {} over {} vectors in memory (`{} --spec ...` saves "
      "one)",
      space, index->spec(), index->size(), rebuild_command(ws, space));
  return LiveIndex(ws, space, std::move(index), seq, /*saved=*/false);
}

VectorLogDelta LiveIndex::read_changes(const CatalogStore& catalog) const {
  return read_vector_log(catalog, space_, seq_);
}

void LiveIndex::apply(const VectorLogDelta& delta) {
  apply_vector_log(*index_, delta, path_);
  seq_ = delta.head;
}

void LiveIndex::save(const Workspace& ws) const {
  if (saved_) save_workspace_index(ws, space_, *index_, seq_);
}

}  // namespace doppel
