#include "pipeline/ingest_job.h"

#include <spdlog/spdlog.h>

#include "image/image_source.h"
#include "util/error.h"

namespace doppel {

namespace {

// A relative image path in a catalog file names a file relative to that file's folder (or the
// DeepMatcher folder), wherever doppel runs from; stored absolute, it keeps meaning that file.
void resolve_image_paths(std::vector<Listing>& listings, const std::filesystem::path& catalog) {
  const auto absolute = std::filesystem::absolute(catalog);
  const auto base = std::filesystem::is_directory(absolute) ? absolute : absolute.parent_path();
  for (Listing& listing : listings) {
    if (listing.image.empty() || ImageFetcher::is_url(listing.image)) continue;
    const std::filesystem::path image(listing.image);
    if (image.is_relative()) listing.image = (base / image).lexically_normal().string();
  }
}

}  // namespace

IngestSummary ingest_file(Workspace& ws, const std::filesystem::path& path,
                          const ReadOptions& options, bool strict) {
  ReadOptions with_catalog = options;
  with_catalog.known_id = [&ws](const std::string& id) { return ws.catalog().get(id).has_value(); };
  ReadResult read = read_catalog(path, with_catalog);
  if (strict && !read.errors.empty())
    fail("{}\n(--strict: nothing was written; {} malformed record(s) in all)", read.errors.front(),
         read.errors.size());
  constexpr size_t kShown = 20;
  for (size_t i = 0; i < read.errors.size() && i < kShown; ++i) spdlog::warn("{}", read.errors[i]);
  if (read.errors.size() > kShown)
    spdlog::warn("... and {} more malformed records", read.errors.size() - kShown);

  resolve_image_paths(read.listings, path);
  IngestSummary summary;
  summary.records = read.records_read;
  summary.skipped = read.errors.size();
  auto stats = ws.catalog().ingest(read.listings, read.labels);
  summary.inserted = stats.inserted;
  summary.updated = stats.updated;
  summary.labels = read.labels.size();
  return summary;
}

}  // namespace doppel
