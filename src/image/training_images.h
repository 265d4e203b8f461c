// TrainingImages — the photos a trainer iterates over, epoch after epoch: each reference (path or
// URL) is fetched and decoded once up front (a broken one is skipped with a warning naming it),
// shrunk so that its shorter side is at most twice what the input recipe needs (augmentation
// crops still have pixels to spare), and kept in memory while the cache budget allows; the rest
// are decoded again whenever a batch needs them.
//
// Internal to the trainers of the image module.
#pragma once

#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "image/image_source.h"

namespace doppel {

class TrainingImages {
 public:
  // needed_size: the shorter side, in pixels, the input recipe uses (grid × cell_size).
  TrainingImages(std::span<const std::string> refs, const ImageFetcherOptions& fetcher,
                 int needed_size, size_t cache_bytes);

  size_t usable() const { return usable_.size(); }
  size_t skipped() const { return skipped_; }

  // Positions 0 .. usable()-1, shuffled with `seed` (in order without one).
  std::vector<size_t> epoch_order(std::optional<uint64_t> seed) const;
  // The usable image at `position`: RGB CV_8UC3. Error if a file not cached fails to load now.
  cv::Mat get(size_t position) const;
  // Index into the constructor's refs of the usable image at `position`.
  size_t source(size_t position) const { return sources_.at(position); }

 private:
  cv::Mat load(const std::string& ref) const;

  std::vector<std::string> usable_;  // the refs that loaded
  std::vector<size_t> sources_;      // their indices in the refs
  std::vector<cv::Mat> cached_;      // per usable ref; empty when not cached
  size_t skipped_ = 0;
  ImageFetcher fetcher_;
  int max_side_;
};

}  // namespace doppel
