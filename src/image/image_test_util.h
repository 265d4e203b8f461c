// Test helpers of the image module: encoding synthetic images to file bytes.
#pragma once

#include <opencv2/imgcodecs.hpp>  // the encoder parameters tests pass

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "image/image_io.h"

namespace doppel::testing {

// Encodes an image given in RGB(A) order as `ext` (".jpg", ".png", ".webp") file bytes.
inline std::string encode(const cv::Mat& rgb, const std::string& ext,
                          std::vector<int> params = {}) {
  const std::vector<unsigned char> bytes = encode_image(rgb, ext, params);
  return std::string(bytes.begin(), bytes.end());
}

inline std::span<const std::byte> as_bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

}  // namespace doppel::testing
