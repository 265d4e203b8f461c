// Training-time image augmentation for the MAE and contrastive stages: a random resized crop,
// a horizontal flip and colour jitter (brightness, contrast, saturation), applied to the decoded
// photo before the patch selection. Seeded: the same seed gives the same augmented image, so a
// resumed run sees the batches it would have seen.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>

namespace doppel {

struct AugmentOptions {
  double min_crop_area = 0.35;  // the crop keeps at least this fraction of the image's area
  double max_aspect = 4.0 / 3;  // crop aspect ratio in [1 / max_aspect, max_aspect]
  bool flip = true;             // mirror left-right with probability 1/2
  double brightness = 0.3;      // pixel values scaled by a factor in [1 - b, 1 + b]
  double contrast = 0.3;        // distance from the mean grey scaled by [1 - c, 1 + c]
  double saturation = 0.3;      // distance from each pixel's grey scaled by [1 - s, 1 + s]
  void validate() const;        // Error naming the field
};

// A new RGB CV_8UC3 image: the crop (not resized: the patch selection resizes), possibly
// mirrored, with jittered colours.
cv::Mat augment_image(const cv::Mat& rgb, const AugmentOptions& options, uint64_t seed);

}  // namespace doppel
