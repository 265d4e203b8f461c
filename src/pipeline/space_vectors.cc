#include "pipeline/space_vectors.h"

#include <spdlog/spdlog.h>

#include <limits>

#include "util/binary_io.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {
namespace {

constexpr char kMagic[8] = {'D', 'P', 'L', 'V', 'E', 'C', '0', '2'};

}  // namespace

void SpaceVectors::store(CatalogStore& catalog) const {
  catalog.in_transaction([&] {
    const int stored_dim = catalog.vector_dim(space);
    if (!keys.empty() && stored_dim != 0 && stored_dim != dim) {
      spdlog::warn("{}: the {} space held {}-d vectors; {} makes {}-d ones, so the old ones go",
                   catalog.path().string(), space, stored_dim, encoder, dim);
      catalog.drop_vectors(space);
    }
    if (!keys.empty()) catalog.put_vectors(space, keys, data.data(), dim, sources);
    if (!removed.empty()) catalog.remove_vectors(space, removed);
    catalog.set_meta(space + "_encoder", encoder);
  });
}

void SpaceVectors::save(const std::filesystem::path& path) const {
  DOPPEL_CHECK(data.size() == keys.size() * static_cast<size_t>(dim), "{} rows of {} floats",
               keys.size(), dim);
  DOPPEL_CHECK(sources.size() == keys.size(), "{} sources for {} rows", sources.size(),
               keys.size());
  std::string out;
  append_bytes(out, kMagic, sizeof(kMagic));
  append_pod<uint32_t>(out, static_cast<uint32_t>(dim));
  append_pod<uint64_t>(out, keys.size());
  append_pod<uint64_t>(out, removed.size());
  append_bytes(out, keys.data(), keys.size() * sizeof(int64_t));
  append_bytes(out, data.data(), data.size() * sizeof(float));
  append_bytes(out, sources.data(), sources.size() * sizeof(uint64_t));
  append_bytes(out, removed.data(), removed.size() * sizeof(int64_t));
  write_file_atomic(path, out);
}

SpaceVectors SpaceVectors::load(const std::filesystem::path& path, std::string space,
                                std::string encoder) {
  const std::string bytes = read_file(path);
  BinaryReader in(path, bytes, "vector file");
  in.expect_magic(std::string_view(kMagic, sizeof(kMagic)));
  SpaceVectors v;
  v.space = std::move(space);
  v.encoder = std::move(encoder);
  v.dim = static_cast<int>(in.get<uint32_t>("dim"));
  const auto rows = in.get<uint64_t>("rows");
  const auto removed = in.get<uint64_t>("removed count");
  const size_t row_bytes = sizeof(int64_t) + sizeof(float) * v.dim + sizeof(uint64_t);
  if (v.dim <= 0 || rows > in.remaining() / row_bytes ||
      removed > in.remaining() / sizeof(int64_t)) {
    fail("{}: header says {} rows of dim {} and {} removed keys, more than the file holds",
         path.string(), rows, v.dim, removed);
  }
  v.keys.resize(rows);
  v.data.resize(rows * v.dim);
  v.sources.resize(rows);
  v.removed.resize(removed);
  in.read(v.keys.data(), rows * sizeof(int64_t), "keys");
  in.read(v.data.data(), v.data.size() * sizeof(float), "vectors");
  in.read(v.sources.data(), rows * sizeof(uint64_t), "sources");
  in.read(v.removed.data(), removed * sizeof(int64_t), "removed keys");
  if (in.remaining() != 0)
    fail("{}: {} unexpected bytes at the end", path.string(), in.remaining());
  return v;
}

PagedEmbed embed_in_pages(CatalogStore& catalog, const std::string& space,
                          const VectorSources& sources, EmbedScope scope, size_t page_size,
                          Progress& progress,
                          const std::function<SpaceVectors(std::span<const Listing>)>& encode) {
  PagedEmbed totals;
  for (int64_t after = std::numeric_limits<int64_t>::min();;) {
    std::vector<Listing> page = catalog.listings_after(after, page_size);
    if (page.empty()) break;
    after = page.back().key;
    const size_t read = page.size();
    if (scope == EmbedScope::kStale)
      sources.keep_stale(page, catalog.vector_sources(space, page.front().key, after));
    totals.listings += read;
    totals.up_to_date += read - page.size();
    progress.advance(read - page.size());
    encode(page).store(catalog);
  }
  return totals;
}

}  // namespace doppel
