// VectorStore — the full float32 vectors of an RDisk index ("...,RDisk" spec), kept outside the
// process heap so that an IVF-PQ index can re-rank its candidates exactly at ~50 B/vector of RAM.
//
// Two parts:
// - the rows of the last save: the file `<index path>.vectors`, memory-mapped read-only with
//   MADV_RANDOM. Rows are ordered by key and the sorted key array sits in the same file, so a
//   key is found by binary search through the mapping: nothing per row lives in the heap except
//   one "removed" bit.
// - the rows added since: appended to an unlinked scratch file (tmpfile(), in TMPDIR) and read
//   back with pread; their key → row map is in the heap (~40 B/key) until the next save/load.
// save() merges both into a new compact file (removed rows dropped), written to a temporary
// name, fsync'ed and renamed over the target. Format: docs/index_format.md.
//
// Not thread-safe for concurrent writes; concurrent const row() calls are fine.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <unordered_map>
#include <vector>

namespace doppel {

class VectorStore {
 public:
  explicit VectorStore(int dim);
  // Maps a file written by save(). Error naming the path on a missing file, wrong magic or
  // version, another dim, a size that disagrees with the header, or unsorted keys.
  static std::unique_ptr<VectorStore> open(const std::filesystem::path& path, int dim);
  ~VectorStore();
  VectorStore(const VectorStore&) = delete;
  VectorStore& operator=(const VectorStore&) = delete;

  int dim() const { return dim_; }
  size_t size() const { return live_; }  // live keys
  bool contains(int64_t key) const;
  // The generation written by the save() that produced the mapped file (0 for a new store).
  uint64_t generation() const { return generation_; }
  // Bytes of the mapping (the file) and of the heap structures, for tests and the benchmark.
  size_t mapped_bytes() const { return map_size_; }
  size_t heap_bytes() const;

  // Appends rows; the caller has checked that no key is present.
  void append(size_t n, const float* x, const int64_t* keys);
  // Marks a key removed; false when absent.
  bool remove(int64_t key);
  // The row of key, or nullptr when absent. Mapped rows are returned in place; appended rows
  // are read into scratch (dim floats).
  const float* row(int64_t key, float* scratch) const;
  // Writes every live row, ordered by key, atomically (tmp + fsync + rename) to path.
  void save(const std::filesystem::path& path, uint64_t generation) const;

 private:
  // Position of key among the mapped rows, or -1.
  int64_t mapped_position(int64_t key) const;

  int dim_;
  uint64_t generation_ = 0;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  const int64_t* mapped_keys_ = nullptr;  // sorted ascending, mapped_count_ of them
  const float* mapped_rows_ = nullptr;
  size_t mapped_count_ = 0;
  std::vector<bool> mapped_dead_;                   // 1 bit per mapped row
  std::FILE* scratch_ = nullptr;                    // rows added since open, unlinked file
  std::unordered_map<int64_t, uint64_t> appended_;  // key -> row number in scratch_
  uint64_t scratch_rows_ = 0;
  size_t live_ = 0;
};

}  // namespace doppel
