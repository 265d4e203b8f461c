// OpenCV's image codecs in a plugin, libdoppel_codecs.so, for image_io.cc. Debian's
// libopencv-imgcodecs pulls in 113 shared libraries (GDAL, GDCM, OpenEXR, ...) whose loading
// took most of every doppel process's start-up, image files or not; the codecs now load on the
// first image decoded or encoded (docs/decisions.md, "Image codecs in a plugin"). The rest of
// doppel reads and writes images through image_io.h.
#pragma once

#include <opencv2/core.hpp>

#include <vector>

namespace doppel {

// Raised whenever the table's layout changes.
inline constexpr int kImageCodecsAbi = 1;

struct ImageCodecs {
  // cv::imdecode: empty when the bytes do not decode (it may also throw cv::Exception).
  cv::Mat (*decode)(const cv::Mat& bytes, int flags);
  // cv::imencode of a BGR(A) or grey image into `out`: false when it fails.
  bool (*encode)(const char* ext, const cv::Mat& image, const std::vector<int>& params,
                 std::vector<unsigned char>& out);
};

// The plugin's table, loaded on the first call (thread safe): from $DOPPEL_CODECS_PLUGIN when set,
// else beside the running executable, then where the build wrote it (util/plugin_loader.h). Error
// naming the places tried.
const ImageCodecs& image_codecs();

}  // namespace doppel
