// image_bench — the measurements behind docs/images.md, on one core (cv::setNumThreads(1)):
//   image_bench decode            full-size vs reduced-size decoding of a 4032×3024 JPEG
//   image_bench grocery [ROOT]    the classical baselines on the grocery retrieval benchmark
//                                 (ROOT defaults to ../shared/data/grocerystore-packages)
#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "image/grocery.h"
#include "image/image_io.h"
#include "image/patch_selection.h"
#include "util/error.h"

namespace {

using doppel::DecodeOptions;

// A phone-photo-like JPEG: smooth random structure upscaled to 4032×3024 plus sensor noise, so
// that it compresses to a few MB at quality 90 like a real photo.
std::vector<uchar> synthetic_photo() {
  cv::Mat small(378, 504, CV_8UC3), big, noise(3024, 4032, CV_8UC3);
  cv::RNG rng(7);
  rng.fill(small, cv::RNG::UNIFORM, 0, 256);
  cv::resize(small, big, noise.size(), 0, 0, cv::INTER_CUBIC);
  rng.fill(noise, cv::RNG::NORMAL, 0, 6);
  big += noise;
  return doppel::encode_image(big, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 90});
}

void bench_decode() {
  const std::vector<uchar> jpeg = synthetic_photo();
  const auto bytes = std::as_bytes(std::span(jpeg));
  fmt::print("4032×3024 JPEG, {:.2f} MB; one thread\n\n", jpeg.size() / 1e6);
  fmt::print(
      "| target_size | decoded size | decode ms | decode + patch selection ms | images/s |\n");
  fmt::print("|---|---|---|---|---|\n");
  const doppel::PatchSelectionOptions patches;
  for (int target : {0, 1500, 700, 192}) {
    DecodeOptions options;
    options.target_size = target;
    const int runs = 8;
    double decode_s = 0, total_s = 0;
    cv::Size size;
    for (int i = 0; i < runs; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const cv::Mat rgb = doppel::decode_image(bytes, "synthetic.jpg", options);
      const auto t1 = std::chrono::steady_clock::now();
      const auto views = doppel::select_patches(rgb, patches);
      const auto t2 = std::chrono::steady_clock::now();
      decode_s += std::chrono::duration<double>(t1 - t0).count();
      total_s += std::chrono::duration<double>(t2 - t0).count();
      size = rgb.size();
    }
    fmt::print("| {} | {}×{} | {:.1f} | {:.1f} | {:.1f} |\n", target, size.width, size.height,
               1000 * decode_s / runs, 1000 * total_s / runs, runs / total_s);
  }
}

}  // namespace

int main(int argc, char** argv) {
  cv::setNumThreads(1);
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "decode") {
      bench_decode();
    } else if (mode == "grocery") {
      const std::string root = argc > 2 ? argv[2] : "../shared/data/grocerystore-packages";
      const auto rows = doppel::run_grocery_baselines(root);
      fmt::print("{}", doppel::grocery_table_markdown(rows));
    } else {
      fmt::print(stderr, "usage: image_bench decode | grocery [ROOT]\n");
      return 2;
    }
  } catch (const doppel::Error& e) {
    fmt::print(stderr, "image_bench: {}\n", e.what());
    return 1;
  }
  return 0;
}
