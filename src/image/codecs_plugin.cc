// libdoppel_codecs.so's entries (image/image_codecs.h): OpenCV's decoder and encoder.
#include <opencv2/imgcodecs.hpp>

#include "image/image_codecs.h"

namespace {

cv::Mat decode(const cv::Mat& bytes, int flags) { return cv::imdecode(bytes, flags); }

bool encode(const char* ext, const cv::Mat& image, const std::vector<int>& params,
            std::vector<unsigned char>& out) {
  return cv::imencode(ext, image, out, params);
}

}  // namespace

extern "C" {

int doppel_codecs_abi() { return doppel::kImageCodecsAbi; }

const doppel::ImageCodecs* doppel_image_codecs() {
  static const doppel::ImageCodecs table{&decode, &encode};
  return &table;
}

}  // extern "C"
