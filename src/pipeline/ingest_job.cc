#include "pipeline/ingest_job.h"

#include <spdlog/spdlog.h>

#include "util/error.h"

namespace doppel {

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
