#include "pipeline/space_vectors.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "util/binary_io.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {
namespace {

constexpr char kMagic[8] = {'D', 'P', 'L', 'V', 'E', 'C', '0', '3'};
constexpr size_t kHeader = sizeof(kMagic) + sizeof(uint32_t);
constexpr size_t kPageHeader = 2 * sizeof(uint64_t);
constexpr uint64_t kEnd = ~uint64_t{0};  // where a page's row count would be: no more pages

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

SpaceVectorsWriter::SpaceVectorsWriter(const std::filesystem::path& path, int dim)
    : file_(path), dim_(dim) {
  std::string header;
  append_bytes(header, kMagic, sizeof(kMagic));
  append_pod<uint32_t>(header, static_cast<uint32_t>(dim));
  file_.write(header);
}

void SpaceVectorsWriter::append(const SpaceVectors& page) {
  DOPPEL_CHECK(page.dim == dim_, "a page of {}-d vectors in a file of {}-d ones", page.dim, dim_);
  DOPPEL_CHECK(page.data.size() == page.keys.size() * static_cast<size_t>(dim_),
               "{} rows of {} floats", page.keys.size(), dim_);
  DOPPEL_CHECK(page.sources.size() == page.keys.size(), "{} sources for {} rows",
               page.sources.size(), page.keys.size());
  if (page.keys.empty() && page.removed.empty()) return;
  std::string out;
  append_pod<uint64_t>(out, page.keys.size());
  append_pod<uint64_t>(out, page.removed.size());
  append_bytes(out, page.keys.data(), page.keys.size() * sizeof(int64_t));
  append_bytes(out, page.data.data(), page.data.size() * sizeof(float));
  append_bytes(out, page.sources.data(), page.sources.size() * sizeof(uint64_t));
  append_bytes(out, page.removed.data(), page.removed.size() * sizeof(int64_t));
  file_.write(out);
  rows_ += page.keys.size();
  removed_ += page.removed.size();
}

void SpaceVectorsWriter::commit() {
  std::string end;
  append_pod<uint64_t>(end, kEnd);
  append_pod<uint64_t>(end, rows_);
  append_pod<uint64_t>(end, removed_);
  file_.write(end);
  file_.commit();
}

SpaceVectorsReader::SpaceVectorsReader(const std::filesystem::path& path, std::string space,
                                       std::string encoder)
    : path_(path),
      in_(path, std::ios::binary),
      space_(std::move(space)),
      encoder_(std::move(encoder)) {
  if (!in_) fail("{}: cannot open the vector file", path.string());
  const uint64_t size = std::filesystem::file_size(path);
  const std::string header_bytes = take(kHeader);
  BinaryReader header(path, header_bytes, "vector file");
  header.expect_magic(std::string_view(kMagic, sizeof(kMagic)));
  dim_ = static_cast<int>(header.get<uint32_t>("dim"));
  const uint64_t row_bytes =
      sizeof(int64_t) + sizeof(float) * static_cast<uint64_t>(dim_) + sizeof(uint64_t);
  // Walk the page headers, so that a damaged file is refused before any page is used.
  for (uint64_t at = kHeader;;) {
    const std::string page_bytes = take(kPageHeader);
    BinaryReader page(path, page_bytes, "vector file");
    const auto rows = page.get<uint64_t>("page rows");
    if (rows == kEnd) {
      const auto total_rows = page.get<uint64_t>("total rows");
      const std::string rest = take(sizeof(uint64_t));
      const auto total_removed =
          BinaryReader(path, rest, "vector file").get<uint64_t>("total removed keys");
      if (total_rows != rows_ || total_removed != removed_) {
        fail("{}: its end counts {} rows and {} removed keys, its pages {} and {}", path.string(),
             total_rows, total_removed, rows_, removed_);
      }
      at += 3 * sizeof(uint64_t);
      if (at != size) fail("{}: {} unexpected bytes at the end", path.string(), size - at);
      break;
    }
    const auto removed = page.get<uint64_t>("page removed count");
    at += kPageHeader;
    const uint64_t left = size - std::min(size, at);
    if ((rows > 0 && dim_ <= 0) || rows > left / row_bytes ||
        removed > (left - rows * row_bytes) / sizeof(int64_t)) {
      fail("{}: page {} says {} rows of dim {} and {} removed keys, more than the file holds",
           path.string(), pages_ + 1, rows, dim_, removed);
    }
    at += rows * row_bytes + removed * sizeof(int64_t);
    in_.seekg(static_cast<std::streamoff>(at));
    rows_ += rows;
    removed_ += removed;
    ++pages_;
  }
  in_.seekg(static_cast<std::streamoff>(kHeader));
}

bool SpaceVectorsReader::next(SpaceVectors& page) {
  if (pages_read_ == pages_) return false;
  const std::string header_bytes = take(kPageHeader);
  BinaryReader header(path_, header_bytes, "vector file");
  const auto rows = header.get<uint64_t>("page rows");
  const auto removed = header.get<uint64_t>("page removed count");
  page.space = space_;
  page.encoder = encoder_;
  page.dim = dim_;
  page.keys.resize(rows);
  page.data.resize(rows * dim_);
  page.sources.resize(rows);
  page.removed.resize(removed);
  read_exactly(page.keys.data(), rows * sizeof(int64_t), "keys");
  read_exactly(page.data.data(), page.data.size() * sizeof(float), "vectors");
  read_exactly(page.sources.data(), rows * sizeof(uint64_t), "sources");
  read_exactly(page.removed.data(), removed * sizeof(int64_t), "removed keys");
  ++pages_read_;
  return true;
}

std::string SpaceVectorsReader::take(size_t n) {
  std::string bytes(n, '\0');
  in_.read(bytes.data(), static_cast<std::streamsize>(n));
  bytes.resize(static_cast<size_t>(in_.gcount()));
  in_.clear();
  return bytes;
}

void SpaceVectorsReader::read_exactly(void* dst, size_t n, std::string_view field) {
  in_.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
  if (static_cast<size_t>(in_.gcount()) != n) {
    fail("{}: cannot read the {} of page {}: the file changed or is damaged", path_.string(), field,
         pages_read_ + 1);
  }
}

PagedEmbed embed_in_pages(CatalogStore& catalog, const std::string& space,
                          const VectorSources& sources, EmbedScope scope, const EmbedTarget& target,
                          const EncodePage& encode) {
  ShardPages pages(catalog, target.shard, target.page_size);
  Progress progress("embed " + space, pages.size());
  PagedEmbed totals;
  // An empty shard still gets one (empty) page, so that target.keep learns the encoder and dim.
  std::vector<Listing> page = pages.next();
  do {
    const size_t read = page.size();
    if (scope == EmbedScope::kStale && !page.empty()) {
      sources.keep_stale(page, catalog.vector_sources(space, page.front().key, page.back().key));
    }
    totals.listings += read;
    totals.up_to_date += read - page.size();
    progress.advance(read - page.size());
    const SpaceVectors vectors = encode(page, progress);
    if (target.keep) {
      target.keep(vectors);
    } else {
      vectors.store(catalog);
    }
  } while (!(page = pages.next()).empty());
  progress.finish();
  return totals;
}

}  // namespace doppel
