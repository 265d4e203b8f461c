#include "image/image_method.h"

#include <cmath>

#include <fmt/format.h>

#include "image/classical_features.h"
#include "util/error.h"

namespace doppel {
namespace {

// An ImageMethod from a per-image feature function that returns `dim` floats.
ImageMethod per_image(
    std::string name, int dim, std::function<void(const cv::Mat&, std::span<float>)> feature,
    std::function<float(std::span<const float>, std::span<const float>)> distance) {
  ImageMethod m;
  m.name = std::move(name);
  m.dim = dim;
  m.embed = [dim, feature = std::move(feature)](std::span<const cv::Mat> images,
                                                std::span<float> out) {
    DOPPEL_CHECK(out.size() == images.size() * size_t(dim), "{} images need {} floats, got {}",
                 images.size(), images.size() * size_t(dim), out.size());
    for (size_t i = 0; i < images.size(); ++i) feature(images[i], out.subspan(i * dim, dim));
  };
  m.distance = std::move(distance);
  return m;
}

void hash_bits(uint64_t hash, std::span<float> out) {
  for (int bit = 0; bit < 64; ++bit) out[bit] = float((hash >> bit) & 1);
}

float l1_distance(std::span<const float> a, std::span<const float> b) {
  float sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += std::abs(a[i] - b[i]);
  return sum;
}

void copy_into(const std::vector<float>& values, std::span<float> out) {
  std::copy(values.begin(), values.end(), out.begin());
}

}  // namespace

ImageMethod phash_method() {
  return per_image(
      "pHash 64-bit", 64,
      [](const cv::Mat& rgb, std::span<float> out) { hash_bits(phash64(rgb), out); }, l1_distance);
}

ImageMethod dhash_method() {
  return per_image(
      "dHash 64-bit", 64,
      [](const cv::Mat& rgb, std::span<float> out) { hash_bits(dhash64(rgb), out); }, l1_distance);
}

ImageMethod hsv_histogram_method(double central_fraction) {
  const std::string name =
      central_fraction == 1.0
          ? std::string("HSV 8×8×8 histogram, χ²")
          : fmt::format("HSV histogram of the central {:g}%, χ²", 100 * central_fraction);
  return per_image(
      name, kHsvBins * kHsvBins * kHsvBins,
      [central_fraction](const cv::Mat& rgb, std::span<float> out) {
        copy_into(hsv_histogram(rgb, central_fraction), out);
      },
      chi_square_distance);
}

ImageMethod rgb_thumbnail_method() {
  return per_image(
      "raw 32×32 RGB, cosine", kThumbnailSide * kThumbnailSide * 3,
      [](const cv::Mat& rgb, std::span<float> out) { copy_into(rgb_thumbnail(rgb), out); },
      cosine_distance);
}

std::vector<ImageMethod> classical_image_methods() {
  return {phash_method(), dhash_method(), hsv_histogram_method(), hsv_histogram_method(0.5),
          rgb_thumbnail_method()};
}

}  // namespace doppel
