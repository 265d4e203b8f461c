// ImageMethod — one way of turning images into fixed-size vectors plus the distance that compares
// two of them. The retrieval evaluation (grocery.h) takes any ImageMethod, so the classical
// baselines below and the ViT-MAE encoder are measured by the same code in the same run.
#pragma once

#include <opencv2/core.hpp>

#include <functional>
#include <span>
#include <string>
#include <vector>

namespace doppel {

struct ImageMethod {
  std::string name;  // as printed in result tables, e.g. "HSV 8×8×8 histogram, χ²"
  int dim = 0;       // floats per image
  // Embeds a batch of RGB CV_8UC3 images: out holds images.size() × dim floats, row by row.
  std::function<void(std::span<const cv::Mat> images, std::span<float> out)> embed;
  // Distance between two embeddings; smaller = more alike.
  std::function<float(std::span<const float> a, std::span<const float> b)> distance;
};

// The classical baselines of classical_features.h as ImageMethods. The 64-bit hashes are stored
// as 64 floats of 0 or 1, so that their L1 distance is the Hamming distance.
ImageMethod phash_method();
ImageMethod dhash_method();
ImageMethod hsv_histogram_method(double central_fraction = 1.0);
ImageMethod rgb_thumbnail_method();

// All of the above, in the order of the anchors table: pHash, dHash, HSV, HSV central 50%,
// raw 32×32 RGB.
std::vector<ImageMethod> classical_image_methods();

}  // namespace doppel
