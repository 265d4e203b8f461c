// Ingest: a catalog or benchmark file into the workspace's catalog.db.
#pragma once

#include <filesystem>

#include "catalog/readers.h"
#include "pipeline/workspace.h"

namespace doppel {

struct IngestSummary {
  size_t records = 0;        // records parsed
  size_t skipped = 0;        // malformed lines skipped (each reported)
  size_t inserted = 0;       // new listings
  size_t updated = 0;        // listings whose id already existed
  size_t labels = 0;         // labelled pairs stored
};

// Reads `path` and stores its listings and labelled pairs in one transaction. Malformed lines
// are reported on stderr as FILE:LINE: reason and skipped; with `strict` the first one aborts
// the ingest with an Error and nothing is written. A relative local image path is stored as an
// absolute path, resolved against the folder of `path` (URLs are stored as given).
IngestSummary ingest_file(Workspace& ws, const std::filesystem::path& path,
                          const ReadOptions& options, bool strict);

}  // namespace doppel
