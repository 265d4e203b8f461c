// Image vectors for load tests of `doppel serve` at catalog sizes whose photos cannot all be
// embedded in reasonable time on a small machine (1M photos through the ViT on 2 cores take
// hours). The workspace's image encoder really embeds a pool of photos; every listing without an
// image vector then gets the vector of one pool photo (chosen by its key) plus Gaussian noise,
// re-normalised, stored through CatalogStore::put_vectors exactly as `doppel embed` stores real
// ones (vector log, encoder name), so indexes and the server treat them as any image vectors.
// For measuring speed and memory only: these vectors say nothing about accuracy.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "pipeline/workspace.h"

namespace doppel {

struct SyntheticImageOptions {
  float noise = 0.5f;    // standard deviation of the noise, relative to the unit vector's norm
  unsigned seed = 1;     // of the noise
  size_t batch = 20000;  // listings per put_vectors transaction
};

struct SyntheticImageReport {
  size_t pool = 0;     // photos embedded (unreadable ones are skipped)
  size_t written = 0;  // listings given a synthetic image vector
  size_t kept = 0;     // listings that already had an image vector, left as they were
};

// Error when the workspace has no image encoder or no pool photo can be read.
SyntheticImageReport fill_synthetic_image_vectors(Workspace& ws,
                                                  std::span<const std::string> photos,
                                                  const SyntheticImageOptions& options = {});

}  // namespace doppel
