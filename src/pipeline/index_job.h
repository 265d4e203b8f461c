// The vector index of one vector space, built from and kept in step with the vectors stored in
// catalog.db.
//
// Beside ws/index/<space>.index lies <space>.index.json, written after it, atomically:
//   {"format": "doppel-index-state", "version": 1, "space", "spec", "count", "vector_log_seq"}
// vector_log_seq is the catalog's vector-log head the index reflects (CatalogStore). An index
// whose seq is behind the catalog's is stale: using it is an error, `doppel index --update`
// applies the logged changes since. A crash between the two writes leaves a newer index with an
// older seq; the update is idempotent (a written key is removed, then added), so it heals that.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "index/vector_index.h"
#include "pipeline/workspace.h"

namespace doppel {

// Builds an index of `spec` over every vector of `space`, trains it on a seeded sample when the
// spec needs training, and saves it (and its state) to ws/index/. Returns the built index.
std::unique_ptr<VectorIndex> build_index(Workspace& ws, const std::string& spec,
                                         const std::string& space = "text");

// An empty index of `spec` for the vectors of `space`, trained when the spec needs it on a seeded
// sample of up to 200,000 of them, read by key: the same sample, so the same training, for the
// same stored keys. Error when the space holds no vectors.
std::unique_ptr<VectorIndex> new_trained_index(const Workspace& ws, const std::string& spec,
                                               const std::string& space);

// Vectors read from catalog.db and added to an index at a time: the build never holds the space.
inline constexpr size_t kIndexPage = 10000;

// Adds the pages `next_page` returns to `index` until one is empty, with a progress bar over
// `total` vectors. Error when a page's dim is not the index's.
void add_pages(VectorIndex& index, size_t total, const std::string& progress_label,
               const std::function<CatalogStore::VectorSet()>& next_page);

struct IndexUpdate {
  size_t written = 0;  // keys (re-)added with their current vector
  size_t removed = 0;  // keys whose vector or listing is gone
  size_t size = 0;     // keys in the index afterwards
  std::string spec;    // update_index: the saved index's spec, search parameters included
};

// Brings the saved index of `space` up to date with the catalog without rebuilding it: applies
// the vector log since the index's seq (remove, then add, per key), then, when search_params is
// not empty, sets those (VectorIndex::set_search_params, e.g. "nprobe=128"), and saves index and
// state. Nothing is saved when a parameter is refused.
IndexUpdate update_index(Workspace& ws, const std::string& space = "text",
                         const std::string& search_params = "");

// What changed in `space` after vector-log sequence `since`: the keys touched and the current
// vectors of those still written. `head` is read first, so a write racing with the read is
// re-applied by the next catch-up rather than lost (applying is idempotent).
struct VectorLogDelta {
  int64_t head = 0;
  std::vector<int64_t> touched;
  CatalogStore::VectorSet written;
};
VectorLogDelta read_vector_log(const CatalogStore& catalog, const std::string& space,
                               int64_t since);
// Removes every touched key from `index`, then adds the written vectors. Error when their dim is
// not the index's (naming `index_path`).
IndexUpdate apply_vector_log(VectorIndex& index, const VectorLogDelta& delta,
                             const std::filesystem::path& index_path);

// The saved index of `space` caught up with the catalog in memory (nothing is written), and the
// vector-log head it now reflects: what a long-running process starts from.
struct CaughtUpIndex {
  std::unique_ptr<VectorIndex> index;
  int64_t seq = 0;
  IndexUpdate update;
};
CaughtUpIndex load_caught_up_index(const Workspace& ws, const std::string& space = "text");

// Saves the index and then its state (which records `seq`), each atomically.
void save_workspace_index(const Workspace& ws, const std::string& space, const VectorIndex& index,
                          int64_t seq);

// Loads ws/index/<space>.index, checking that it is current: its state's seq equals the
// catalog's vector-log head and it holds as many vectors, of the same dim, as the space in
// catalog.db. A stale index is an error that says how to refresh it, not silently wrong
// candidates.
std::unique_ptr<VectorIndex> load_workspace_index(const Workspace& ws,
                                                  const std::string& space = "text");

}  // namespace doppel
