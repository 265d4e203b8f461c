// SpaceVectors — the vectors of one space ("text", "image") encoded for some listings but not
// yet stored: what `doppel embed` writes into catalog.db, and what an embed shard writes to its
// folder for `doppel merge` to store later (pipeline/shards.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "catalog/catalog_store.h"
#include "pipeline/vector_sources.h"
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

  // The file format (little-endian):
  //   "DPLVEC02"  u32 dim  u64 rows  u64 removed  i64 keys[rows]  f32 data[rows*dim]
  //   u64 sources[rows]  i64 removed_keys[removed]
  // The space and encoder names travel in the shard manifest. Written atomically; load() throws
  // doppel::Error naming the file on a bad magic, truncation or trailing bytes.
  void save(const std::filesystem::path& path) const;
  static SpaceVectors load(const std::filesystem::path& path, std::string space,
                           std::string encoder);
};

// Listings an embed reads, encodes and stores at a time (embed_in_pages).
inline constexpr size_t kEmbedPage = 16384;

struct PagedEmbed {
  size_t listings = 0;    // read from the catalog
  size_t up_to_date = 0;  // of those, not handed to `encode`: their stored vector is current
};

// Reads the catalog's listings page_size at a time in key order, drops from each page those
// whose stored `space` vector is current by `sources` (when scope is kStale), hands the rest to
// `encode` and stores the SpaceVectors it returns before reading the next page, in one
// transaction a page. It never holds the catalog, and an interrupted run keeps the pages it
// stored. Advances `progress` over the listings it drops; `encode` advances it over the others.
PagedEmbed embed_in_pages(CatalogStore& catalog, const std::string& space,
                          const VectorSources& sources, EmbedScope scope, size_t page_size,
                          Progress& progress,
                          const std::function<SpaceVectors(std::span<const Listing>)>& encode);

}  // namespace doppel
