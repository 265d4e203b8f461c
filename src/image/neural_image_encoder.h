// NeuralImageEncoder — the ViT-MAE image encoder behind the Encoder interface: a listing's image
// (path or URL) -> decode -> structured patch selection (centre cell, two more cells, the whole
// image; patch_selection.h) -> the four 64² views as the quadrants of one 128² mosaic -> ViT-MAE
// encoder without masking -> CLS token (or the mean of the patch tokens) -> linear projection to 128 ->
// L2-normalised vector.
//
// Model folder (ws/models/image/, also what `doppel train image` writes):
//   config.json        ViTMAEConfig in Hugging Face's layout (image/vit_mae_config.h)
//   model.safetensors  ViTMAEForPreTraining weights under Hugging Face names (encoder + decoder;
//                      a bare ViTMAEModel checkpoint without "vit." and decoder also loads)
//   encoder.json       doppel's part: input recipe, pooling, out_dim, format_version
//   head.safetensors   the projection (projection.weight [out_dim, hidden], projection.bias)
// The first two files are any ViTMAE checkpoint; encoder.json and head.safetensors appear once a
// head is fitted (a PCA of the pooled outputs after pretraining, or the contrastive stage).
#pragma once

#include <opencv2/core.hpp>

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "catalog/encoder.h"
#include "image/image_source.h"
#include "image/patch_selection.h"

namespace doppel {

// The files of a model folder, as listed above. Like the input recipe's config below, they need
// no torch: the doppel binary uses them without loading the neural plugin.
struct ImageModelFiles {
  static constexpr const char* kConfig = "config.json";
  static constexpr const char* kWeights = "model.safetensors";
  static constexpr const char* kEncoder = "encoder.json";
  static constexpr const char* kHeadWeights = "head.safetensors";
  static bool has_mae(const std::filesystem::path& dir);   // config and weights
  static bool has_head(const std::filesystem::path& dir);  // and encoder.json, head.safetensors
};

// What the ViT sees of an image.
enum class ImageInput {
  kStructured,   // centre + 2 cells + whole image, 4 views of cell_size² tiled 2×2 (the recipe)
  kFullImage,    // the whole image letterboxed to full_size² (the plain ViT input, 196 patches)
  kRandomCells,  // 4 grid cells drawn at random, tiled 2×2 (ablation: no centre, no whole view)
};
std::string_view image_input_name(ImageInput input);  // "structured", "full", "random"
ImageInput parse_image_input(std::string_view name);   // Error listing the valid names

// The encoder's input recipe and head, saved in encoder.json.
struct ImageEncoderConfig {
  static constexpr int kFormatVersion = 1;
  ImageInput input = ImageInput::kStructured;
  PatchSelectionOptions patches;  // cell_size, grid, random_cells, inference_cells
  int full_size = 224;            // side of the kFullImage input
  std::string pooling = "cls";    // "cls" token or "mean" of the patch tokens (docs/images.md)
  int out_dim = 128;

  // Views tiled per side of the mosaic (2 for 4 views).
  int mosaic_side() const;
  // Side in pixels of the square the ViT receives: mosaic_side() × cell_size, or full_size.
  int input_size() const;
  // The shorter side, in pixels, the recipe uses of a photo (grid × cell_size, or full_size):
  // JPEGs far larger than that are decoded at a reduced scale.
  int source_size() const;
  // Error naming the field; patch_size is the model's (input_size must be a multiple of it), and
  // the structured recipe must give a square number of views.
  void validate(int patch_size) const;
  void save(const std::filesystem::path& encoder_json) const;
  static ImageEncoderConfig load(const std::filesystem::path& encoder_json);
};

// True for the all-zero row encode() writes for a listing without a readable image (a real
// image vector is L2-normalised, so never zero).
bool is_missing_image(std::span<const float> row);

// An Encoder of listings' images that also embeds images already decoded (a photo sent with a
// match request): what the server and the pipeline hold, whatever model is behind it.
class ImageEncoder : public Encoder {
 public:
  // Embeds decoded RGB CV_8UC3 images: images.size() rows of dim() floats, L2-normalised.
  virtual void encode_images(std::span<const cv::Mat> images, float* out) const = 0;
};

// Implemented in the neural plugin (libtorch); the doppel binary reaches it through
// pipeline/neural_plugin.h.
class NeuralImageEncoder : public ImageEncoder {
 public:
  struct Options {
    int batch_size = 32;          // images per forward pass
    ImageFetcherOptions fetcher;  // where URLs are cached and relative paths resolve
  };

  // Loads a model folder that has a head; Error naming the missing or bad file otherwise.
  static NeuralImageEncoder load(const std::filesystem::path& dir, const Options& options);
  static bool exists(const std::filesystem::path& dir);  // all four files present

  NeuralImageEncoder(NeuralImageEncoder&&) noexcept;
  NeuralImageEncoder& operator=(NeuralImageEncoder&&) noexcept;
  ~NeuralImageEncoder() override;

  std::string name() const override;  // e.g. "vitmae-L6-H192-structured-mean-128"
  int dim() const override;
  // Reads each listing's image (ImageFetcher) and embeds it. A listing without an image gets a
  // zero row; one whose image cannot be fetched or decoded gets a zero row and a warning naming
  // the listing id and the reason — never an exception. Runs under torch::InferenceMode with the
  // process-wide thread count (set once by the caller).
  void encode(std::span<const Listing> listings, float* out) const override;
  std::string input(const Listing& listing) const override { return listing.image; }
  void encode_images(std::span<const cv::Mat> images, float* out) const override;

  const ImageEncoderConfig& config() const;

 private:
  struct Impl;
  explicit NeuralImageEncoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace doppel
