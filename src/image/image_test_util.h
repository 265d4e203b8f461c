// Test helpers of the image module: encoding synthetic images to file bytes.
#pragma once

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace doppel::testing {

// Encodes an image given in RGB(A) order as `ext` (".jpg", ".png", ".webp") file bytes.
inline std::string encode(const cv::Mat& rgb, const std::string& ext,
                          std::vector<int> params = {}) {
  cv::Mat bgr;
  if (rgb.channels() == 3) {
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  } else if (rgb.channels() == 4) {
    cv::cvtColor(rgb, bgr, cv::COLOR_RGBA2BGRA);
  } else {
    bgr = rgb;
  }
  std::vector<uchar> bytes;
  cv::imencode(ext, bgr, bytes, params);
  return std::string(bytes.begin(), bytes.end());
}

inline std::span<const std::byte> as_bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

}  // namespace doppel::testing
