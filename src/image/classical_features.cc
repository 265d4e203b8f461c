#include "image/classical_features.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>

#include "image/image_io.h"
#include "util/error.h"

namespace doppel {
namespace {

void check_rgb(const cv::Mat& rgb) {
  DOPPEL_CHECK(!rgb.empty() && rgb.type() == CV_8UC3,
               "expected a non-empty RGB CV_8UC3 image, "
               "got {}×{} of type {}",
               rgb.cols, rgb.rows, rgb.type());
}

cv::Mat grey_thumbnail(const cv::Mat& rgb, int width, int height) {
  check_rgb(rgb);
  cv::Mat grey;
  cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
  return resize_to(grey, width, height);
}

}  // namespace

uint64_t phash64(const cv::Mat& rgb) {
  cv::Mat small = grey_thumbnail(rgb, 32, 32), dct;
  small.convertTo(small, CV_32F);
  cv::dct(small, dct);
  std::array<float, 64> block;  // the lowest 8×8 frequencies, DC first
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 8; ++x) block[y * 8 + x] = dct.at<float>(y, x);
  }
  // Median of the 63 AC coefficients: the DC term is the mean brightness, far larger than the
  // rest, and would shift the median by half a rank.
  std::array<float, 63> ac;
  std::copy(block.begin() + 1, block.end(), ac.begin());
  std::nth_element(ac.begin(), ac.begin() + 31, ac.end());
  const float median = ac[31];
  uint64_t hash = 0;
  for (int i = 0; i < 64; ++i) hash |= uint64_t(block[i] > median) << i;
  return hash;
}

uint64_t dhash64(const cv::Mat& rgb) {
  const cv::Mat small = grey_thumbnail(rgb, 9, 8);
  uint64_t hash = 0;
  for (int y = 0; y < 8; ++y) {
    const uint8_t* row = small.ptr<uint8_t>(y);
    for (int x = 0; x < 8; ++x) hash |= uint64_t(row[x] < row[x + 1]) << (y * 8 + x);
  }
  return hash;
}

int hamming_distance(uint64_t a, uint64_t b) { return std::popcount(a ^ b); }

std::vector<float> hsv_histogram(const cv::Mat& rgb, double central_fraction) {
  check_rgb(rgb);
  DOPPEL_CHECK(central_fraction > 0 && central_fraction <= 1, "central_fraction {}",
               central_fraction);
  const int width = std::max(1, int(std::lround(rgb.cols * central_fraction)));
  const int height = std::max(1, int(std::lround(rgb.rows * central_fraction)));
  cv::Mat hsv;
  cv::cvtColor(rgb(cv::Rect((rgb.cols - width) / 2, (rgb.rows - height) / 2, width, height)), hsv,
               cv::COLOR_RGB2HSV);
  std::vector<float> hist(kHsvBins * kHsvBins * kHsvBins, 0.0f);
  for (int y = 0; y < hsv.rows; ++y) {
    const uint8_t* row = hsv.ptr<uint8_t>(y);
    for (int x = 0; x < hsv.cols; ++x) {
      const int h = row[3 * x] * kHsvBins / 180, s = row[3 * x + 1] * kHsvBins / 256,
                v = row[3 * x + 2] * kHsvBins / 256;
      hist[(h * kHsvBins + s) * kHsvBins + v] += 1.0f;
    }
  }
  const float total = float(hsv.rows) * hsv.cols;
  for (float& bin : hist) bin /= total;
  return hist;
}

float chi_square_distance(std::span<const float> a, std::span<const float> b) {
  DOPPEL_CHECK(a.size() == b.size(), "histograms of {} and {} bins", a.size(), b.size());
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double total = double(a[i]) + b[i];
    if (total > 0) sum += (double(a[i]) - b[i]) * (double(a[i]) - b[i]) / total;
  }
  return float(0.5 * sum);
}

std::vector<float> rgb_thumbnail(const cv::Mat& rgb) {
  check_rgb(rgb);
  const cv::Mat small = resize_to(rgb, kThumbnailSide, kThumbnailSide);
  std::vector<float> out(size_t(kThumbnailSide) * kThumbnailSide * 3);
  size_t i = 0;
  double sum = 0;
  for (int y = 0; y < small.rows; ++y) {
    const uint8_t* row = small.ptr<uint8_t>(y);
    for (int x = 0; x < small.cols * 3; ++x, ++i) {
      out[i] = row[x] / 255.0f;
      sum += out[i];
    }
  }
  const float mean = float(sum / double(out.size()));
  for (float& v : out) v -= mean;
  return out;
}

float cosine_distance(std::span<const float> a, std::span<const float> b) {
  DOPPEL_CHECK(a.size() == b.size(), "vectors of {} and {} values", a.size(), b.size());
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += double(a[i]) * b[i];
    na += double(a[i]) * a[i];
    nb += double(b[i]) * b[i];
  }
  if (na == 0 || nb == 0) return 1.0f;
  return float(1.0 - dot / std::sqrt(na * nb));
}

}  // namespace doppel
