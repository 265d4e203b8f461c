#include "image/training_images.h"

#include <algorithm>
#include <numeric>
#include <random>

#include <spdlog/spdlog.h>

#include "image/image_io.h"
#include "util/progress.h"

namespace doppel {

TrainingImages::TrainingImages(std::span<const std::string> refs, const ImageFetcherOptions& fetcher,
                               int needed_size, size_t cache_bytes)
    : fetcher_(fetcher), max_side_(2 * needed_size) {
  require_image_codecs();  // an image that does not decode is skipped below
  size_t cached_bytes = 0;
  Progress progress("loading images", refs.size());
  for (size_t index = 0; index < refs.size(); ++index) {
    const std::string& ref = refs[index];
    progress.advance();
    cv::Mat image;
    try {
      image = load(ref);
    } catch (const std::exception& e) {  // doppel::Error, or OpenCV/allocation failures
      spdlog::warn("training image skipped: {}", e.what());
      ++skipped_;
      continue;
    }
    usable_.push_back(ref);
    sources_.push_back(index);
    const size_t bytes = image.total() * image.elemSize();
    if (cached_bytes + bytes <= cache_bytes) {
      cached_bytes += bytes;
      cached_.push_back(std::move(image));
    } else {
      cached_.emplace_back();
    }
  }
  progress.finish();
}

cv::Mat TrainingImages::load(const std::string& ref) const {
  DecodeOptions decode;
  decode.target_size = max_side_;
  cv::Mat image = fetcher_.load(ref, decode);
  const int shorter = std::min(image.rows, image.cols);
  if (shorter <= max_side_) return image;
  const double scale = static_cast<double>(max_side_) / shorter;
  return resize_to(image, std::max(1, static_cast<int>(image.cols * scale)),
                   std::max(1, static_cast<int>(image.rows * scale)));
}

std::vector<size_t> TrainingImages::epoch_order(std::optional<uint64_t> seed) const {
  std::vector<size_t> order(usable_.size());
  std::iota(order.begin(), order.end(), 0);
  if (seed) {
    std::mt19937_64 rng(*seed);
    std::shuffle(order.begin(), order.end(), rng);
  }
  return order;
}

cv::Mat TrainingImages::get(size_t position) const {
  const cv::Mat& cached = cached_.at(position);
  return cached.empty() ? load(usable_[position]) : cached;
}

}  // namespace doppel
