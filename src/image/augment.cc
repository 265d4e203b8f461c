#include "image/augment.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "util/error.h"

namespace doppel {

void AugmentOptions::validate() const {
  if (!(min_crop_area > 0 && min_crop_area <= 1)) {
    fail("augmentation: min_crop_area must be in (0, 1], got {}", min_crop_area);
  }
  if (!(max_aspect >= 1)) fail("augmentation: max_aspect must be >= 1, got {}", max_aspect);
  for (auto [field, value] : {std::pair{"brightness", brightness}, std::pair{"contrast", contrast},
                              std::pair{"saturation", saturation}}) {
    if (!(value >= 0 && value < 1)) fail("augmentation: {} must be in [0, 1), got {}", field, value);
  }
}

namespace {

// torchvision's RandomResizedCrop geometry: area and log-aspect drawn uniformly, ten tries, then
// the whole image.
cv::Rect random_crop(const cv::Mat& image, const AugmentOptions& o, std::mt19937_64& rng) {
  const double area = static_cast<double>(image.rows) * image.cols;
  std::uniform_real_distribution<double> scale(o.min_crop_area, 1.0);
  std::uniform_real_distribution<double> log_aspect(-std::log(o.max_aspect), std::log(o.max_aspect));
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * scale(rng), aspect = std::exp(log_aspect(rng));
    const int w = static_cast<int>(std::lround(std::sqrt(target * aspect)));
    const int h = static_cast<int>(std::lround(std::sqrt(target / aspect)));
    if (w < 1 || h < 1 || w > image.cols || h > image.rows) continue;
    std::uniform_int_distribution<int> x(0, image.cols - w), y(0, image.rows - h);
    return {x(rng), y(rng), w, h};
  }
  return {0, 0, image.cols, image.rows};
}

}  // namespace

cv::Mat augment_image(const cv::Mat& rgb, const AugmentOptions& options, uint64_t seed) {
  DOPPEL_CHECK(!rgb.empty() && rgb.type() == CV_8UC3, "expected an RGB CV_8UC3 image, got type {}",
               rgb.type());
  std::mt19937_64 rng(seed);
  cv::Mat image;
  rgb(random_crop(rgb, options, rng)).convertTo(image, CV_32FC3);
  if (options.flip && std::bernoulli_distribution(0.5)(rng)) cv::flip(image, image, 1);
  auto factor = [&](double strength) {
    return std::uniform_real_distribution<double>(1 - strength, 1 + strength)(rng);
  };
  image *= factor(options.brightness);
  cv::Mat grey;
  cv::cvtColor(image, grey, cv::COLOR_RGB2GRAY);
  const double c = factor(options.contrast);
  image = image * c + cv::Scalar::all(cv::mean(grey)[0] * (1 - c));
  cv::cvtColor(image, grey, cv::COLOR_RGB2GRAY);
  cv::Mat grey3;
  cv::cvtColor(grey, grey3, cv::COLOR_GRAY2RGB);
  const double s = factor(options.saturation);
  cv::addWeighted(image, s, grey3, 1 - s, 0, image);
  cv::Mat out;
  image.convertTo(out, CV_8UC3);  // saturates to [0, 255]
  return out;
}

}  // namespace doppel
