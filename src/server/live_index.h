// LiveIndex — the vector index of one space ("text" or "image") that a long-running process
// keeps in step with catalog.db. It starts from the saved index (ws/index/<space>.index) caught
// up with the catalog's vector log, or, where the workspace saved none, from an index built in
// memory over the space's stored vectors; after that, every change arrives through the vector
// log (read_changes, then apply), the same single path `doppel index --update` uses. So a
// restart, even after kill -9, reproduces what the index held: the saved part is replayed from
// its recorded log position, an in-memory one is rebuilt from the rows that were committed.
//
// Not thread-safe: the owner reads changes under its writer lock and applies them under its
// exclusive lock; const search() calls may run in parallel.
#pragma once

#include <memory>
#include <string>

#include "index/vector_index.h"
#include "pipeline/index_job.h"
#include "pipeline/workspace.h"

namespace doppel {

class LiveIndex {
 public:
  // What the index must agree with: the catalog's rows of the space and the encoder that makes
  // new ones.
  struct Expected {
    size_t vectors = 0;        // rows of the space in catalog.db
    int dim = 0;               // the encoder's output dim
    std::string encoder_name;  // named in errors
  };
  // The saved index of `space`, caught up in memory. Error when it is missing, or when it then
  // disagrees with `expected` (it must be rebuilt with `doppel index`).
  static LiveIndex load_saved(const Workspace& ws, const std::string& space,
                              const Expected& expected);
  // The saved index of `space` when the workspace has one, else an index of `spec` built in
  // memory over the space's stored vectors (the space may hold none yet). The built one is never
  // written to ws/index: saving stays the job of `doppel index`.
  static LiveIndex load_or_build(const Workspace& ws, const std::string& space,
                                 const std::string& spec, const Expected& expected);

  const VectorIndex& index() const { return *index_; }
  const std::string& space() const { return space_; }
  int64_t seq() const { return seq_; }  // the vector-log position the index reflects
  bool from_saved() const { return saved_; }

  // What changed in the space since seq() (catalog reads only: no lock on the index needed).
  VectorLogDelta read_changes(const CatalogStore& catalog) const;
  // Applies changes read by read_changes and moves seq() to their head.
  void apply(const VectorLogDelta& delta);
  // Writes the index and its state when it came from ws/index; an in-memory one is not saved.
  void save(const Workspace& ws) const;

 private:
  LiveIndex(const Workspace& ws, std::string space, std::unique_ptr<VectorIndex> index, int64_t seq,
            bool saved);

  std::string space_;
  std::filesystem::path path_;  // ws/index/<space>.index, named in errors
  std::unique_ptr<VectorIndex> index_;
  int64_t seq_ = 0;
  bool saved_ = false;
};

}  // namespace doppel
