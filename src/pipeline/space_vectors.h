// SpaceVectors — the vectors of one space ("text", "image") encoded for some listings but not
// yet stored: what `doppel embed` writes into catalog.db, and what an embed shard writes to its
// folder for `doppel merge` to store later (pipeline/shards.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "catalog/catalog_store.h"
#include "pipeline/shards.h"
#include "pipeline/vector_sources.h"
#include "util/files.h"
#include "util/progress.h"

namespace doppel {

// Which listings an embed encodes: those whose stored vector is missing or stale (by its source
// digest, pipeline/vector_sources.h), or all of them.
enum class EmbedScope { kStale, kAll };

struct SpaceVectors {
  std::string space;    // "text" or "image"
  std::string encoder;  // the encoder's name, stored as the catalog's "<space>_encoder"
  int dim = 0;
  std::vector<int64_t> keys;     // one row of `data` each
  std::vector<float> data;       // keys.size() * dim
  std::vector<uint64_t> sources;  // one per key: the digest of what its row was encoded from
  std::vector<int64_t> removed;  // keys whose stored vector must go (e.g. no readable photo)

  // Writes the rows with their sources, removes `removed` and records the encoder, in that order
  // and in one transaction. Rows of another dim than the space holds replace the whole space (a
  // new encoder's dim: every old vector is stale), with a warning.
  void store(CatalogStore& catalog) const;
};

// An embed shard's <space>.vectors file (docs/shard_format.md), written and read one page of
// SpaceVectors at a time, so that neither the shard nor `doppel merge` holds a shard's vectors.
// Little-endian:
//   "DPLVEC03"  u32 dim
//   each page:  u64 rows  u64 removed  i64 keys[rows]  f32 data[rows*dim]  u64 sources[rows]
//               i64 removed_keys[removed]
//   the end:    u64 2^64-1  u64 total rows  u64 total removed
// The space and encoder names travel in the shard manifest.
class SpaceVectorsWriter {
 public:
  SpaceVectorsWriter(const std::filesystem::path& path, int dim);

  void append(const SpaceVectors& page);  // a page of another dim is a programming error
  // Writes the end and puts the file in place (atomically: until then `path` is untouched).
  void commit();

  size_t rows() const { return rows_; }
  size_t removed() const { return removed_; }

 private:
  AtomicFileWriter file_;
  int dim_;
  size_t rows_ = 0, removed_ = 0;
};

class SpaceVectorsReader {
 public:
  // Opens `path` and walks its page headers before any page is read: Error naming the file on a
  // bad magic, a page the file does not hold, a missing end (a truncated file), totals that
  // disagree with the pages, or bytes after the end.
  SpaceVectorsReader(const std::filesystem::path& path, std::string space, std::string encoder);

  // The next page into `page`; false after the last one.
  bool next(SpaceVectors& page);

  int dim() const { return dim_; }
  size_t rows() const { return rows_; }
  size_t removed() const { return removed_; }

 private:
  std::filesystem::path path_;
  std::ifstream in_;
  std::string space_, encoder_;
  int dim_ = 0;
  size_t rows_ = 0, removed_ = 0;
  size_t pages_ = 0, pages_read_ = 0;

  std::string take(size_t n);  // up to n bytes: fewer at the end of the file
  void read_exactly(void* dst, size_t n, std::string_view field);
};

// Listings an embed reads, encodes and stores at a time (embed_in_pages).
inline constexpr size_t kEmbedPage = 16384;

// Which listings an embed encodes and where their vectors go.
struct EmbedTarget {
  Shard shard;  // this shard's listings; the whole catalog by default
  // Receives each page's vectors; when empty they are stored in catalog.db, one transaction a
  // page (an embed shard hands them to its SpaceVectorsWriter instead).
  std::function<void(const SpaceVectors&)> keep;
  size_t page_size = kEmbedPage;
};

struct PagedEmbed {
  size_t listings = 0;    // of the target's shard, read from the catalog
  size_t up_to_date = 0;  // of those, not handed to `encode`: their stored vector is current
};

// Encodes a page of listings into the vectors of one space, advancing the progress over them.
using EncodePage = std::function<SpaceVectors(std::span<const Listing>, Progress&)>;

// Reads the listings of target.shard a page at a time in key order (ShardPages), drops those
// whose stored `space` vector is current by `sources` (when scope is kStale), hands the rest to
// `encode` and gives the SpaceVectors it returns to target.keep (or stores them) before reading
// the next page; `encode` is called at least once (with no listings for an empty shard). It
// never holds the catalog, and an interrupted run keeps the pages it stored. Shows its progress
// as "embed <space>".
PagedEmbed embed_in_pages(CatalogStore& catalog, const std::string& space,
                          const VectorSources& sources, EmbedScope scope, const EmbedTarget& target,
                          const EncodePage& encode);

}  // namespace doppel
