// Classical image features — the no-training baselines that the ViT-MAE vectors are compared
// with in the same run (see grocery.h and ../shared/anchors/grocery-images.md):
//
// - pHash: the grey image shrunk to 32×32 (INTER_AREA), its 2-D DCT, and one bit per coefficient
//   of the top-left 8×8 block (the lowest frequencies), set when the coefficient is above the
//   median of the block's 63 AC coefficients (the DC term, mean brightness, is left out of the
//   median; its own bit is 1 for any image that is not black). The layout of Python's imagehash
//   phash. Compared by Hamming distance. Near-duplicate copies of a photo differ in a few bits.
// - dHash: the grey image shrunk to 9×8; one bit per horizontal neighbour pair (left < right).
// - HSV colour histogram: 8×8×8 bins over OpenCV's 8-bit HSV (H in [0,180), S and V in
//   [0,256)), L1-normalised, compared by the symmetric χ² distance ½Σ(a−b)²/(a+b). The
//   central-region variant counts only the centred `central_fraction` of width and height
//   (0.5: the middle quarter of the area), which drops most of the shelf around a product.
// - Raw RGB thumbnail: the image shrunk to 32×32, 3072 values minus their mean, compared by
//   cosine distance (so, the Pearson correlation of the two thumbnails: brightness-invariant).
//
// Inputs are RGB CV_8UC3 images (image_io.h).
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <span>
#include <vector>

namespace doppel {

uint64_t phash64(const cv::Mat& rgb);
uint64_t dhash64(const cv::Mat& rgb);
int hamming_distance(uint64_t a, uint64_t b);

inline constexpr int kHsvBins = 8;  // per channel: 512 bins in all

// 512 bin weights summing to 1, index (h × 8 + s) × 8 + v. central_fraction in (0, 1] selects
// the centred part of the image (1: the whole image).
std::vector<float> hsv_histogram(const cv::Mat& rgb, double central_fraction = 1.0);

// ½ Σ (a−b)² / (a+b) over bins where a+b > 0: 0 for equal histograms, 1 for disjoint ones.
float chi_square_distance(std::span<const float> a, std::span<const float> b);

inline constexpr int kThumbnailSide = 32;

// kThumbnailSide² × 3 values (RGB interleaved row by row, scaled to [0, 1]) minus their mean.
std::vector<float> rgb_thumbnail(const cv::Mat& rgb);

// 1 − cos(a, b); 1 when either vector is all zeros.
float cosine_distance(std::span<const float> a, std::span<const float> b);

}  // namespace doppel
