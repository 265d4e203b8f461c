// Structured patch selection — the input recipe of the ViT-MAE image encoder. Instead of one
// 224² view (196 patches of 16 px), the encoder sees four small square views:
//
//   1. the centre cell of a grid × grid split of the image (where a seller puts the product),
//   2-3. `random_cells` other cells (training draws them at random; inference uses fixed ones),
//   4. the whole image shrunk to one cell,
//
// each cell_size² pixels, stacked in that order: 4 × (64/16)² = 64 patches at the defaults, a
// third of the 196-patch sequence, so the encoder runs ~3× faster at a similar view of detail.
//
// Geometry (decided here, see docs/images.md):
// - The grid is laid over the largest centred square of the image (center_square), so the cells
//   are square and the centre cell is the centre of the photo; a 4:3 photo loses 1/8 of its width
//   on each side to the grid. The square is resized to grid × cell_size pixels once (INTER_AREA)
//   and cut into exact cell_size² cells.
// - The whole-image view is the full, uncropped image letterboxed to cell_size² on `fill`
//   (default: the ImageNet mean colour, which normalises to ~0), so nothing is lost from it.
// - Cells are numbered row by row: 0 1 2 / 3 4 5 / 6 7 8 for grid 3; the centre is 4.
//
// Randomness: training calls select_patches(image, options, seed) — a seeded draw of distinct
// non-centre cells, the same for the same seed on every platform (own SplitMix64, not <random>'s
// implementation-defined distributions). Embeddings must not depend on chance: inference calls
// select_patches(image, options) which uses options.inference_cells, the same cells for every
// listing (default 1 and 7, the cells above and below the centre: packaged products are mostly
// upright — bottles, cartons — so these see more product than the corners do).
#pragma once

#include <opencv2/core.hpp>

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace doppel {

// The ImageNet mean colour in 8-bit RGB: padding in this colour normalises to about 0.
inline const cv::Scalar kImagenetMeanRgb{124, 116, 104};

struct PatchSelectionOptions {
  int cell_size = 64;    // side of every view in pixels (a multiple of the ViT patch size)
  int grid = 3;          // odd, so that there is a centre cell
  int random_cells = 2;  // non-centre cells per selection
  std::vector<int> inference_cells = {1, 7};  // the fixed non-centre cells used at inference
  cv::Scalar fill = kImagenetMeanRgb;         // letterbox colour of the whole-image view (RGB)

  int cell_count() const { return grid * grid; }
  int center_cell() const { return cell_count() / 2; }
  int view_count() const { return random_cells + 2; }  // centre + others + whole image
  void validate() const;                               // Error naming the field and value
};

// The views of one image and the cells they came from.
struct PatchSelection {
  std::vector<int> cells;      // grid cells of the views that are cells, in view order
  std::vector<cv::Mat> views;  // RGB CV_8UC3, cell_size × cell_size each
};

// Training: centre cell, options.random_cells distinct non-centre cells drawn with `seed` (in the
// order drawn), then the whole image. cells = {centre, drawn...}; views has view_count() images.
PatchSelection select_patches(const cv::Mat& rgb, const PatchSelectionOptions& options,
                              uint64_t seed);

// Inference: the same with options.inference_cells (which must hold random_cells distinct
// non-centre cells) instead of a draw.
PatchSelection select_patches(const cv::Mat& rgb, const PatchSelectionOptions& options);

// The same with explicitly given non-centre cells (validated: distinct, in range, not the centre).
PatchSelection select_patches_with(const cv::Mat& rgb, const PatchSelectionOptions& options,
                                   std::span<const int> other_cells);

// Ablation inputs, to measure what the recipe buys:
// one size × size letterboxed view of the whole image (the plain ViT input, e.g. 224);
cv::Mat full_image_view(const cv::Mat& rgb, int size, cv::Scalar fill = kImagenetMeanRgb);
// `count` distinct cells drawn from all grid² cells (centre not forced, no whole-image view).
PatchSelection random_patches(const cv::Mat& rgb, const PatchSelectionOptions& options, int count,
                              uint64_t seed);

// Per-channel normalisation of 8-bit RGB values scaled to [0, 1]: (x / 255 - mean) / std.
struct Normalization {
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};  // ImageNet defaults
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
};

// Writes an RGB CV_8UC3 image as normalised float planes R, G, B (CHW, row-major) into `out`,
// which must hold exactly 3 × rows × cols floats.
void to_chw_float(const cv::Mat& rgb, std::span<float> out, const Normalization& norm = {});

// Several views of equal size one after the other: the (views × 3 × H × W) input of one image.
void views_to_chw_float(std::span<const cv::Mat> views, std::span<float> out,
                        const Normalization& norm = {});

}  // namespace doppel
