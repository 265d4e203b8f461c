// Measurements of the neural image encoder (docs/images.md): the grocery retrieval protocols for
// trained model folders, side by side with the classical baselines in one run, and the speed of
// the structured 64-patch input against the plain 196-patch full-image input.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "image/grocery.h"
#include "image/image_method.h"
#include "image/vit_mae_config.h"

namespace doppel {

// The encoder of a model folder (with a head) as an ImageMethod: the L2-normalised vectors
// compared by cosine distance (1 - dot). name defaults to the encoder's name().
ImageMethod neural_image_method(const std::filesystem::path& model_dir, std::string name = "",
                                int batch_size = 32);

// The grocery images that pretraining may use without seeing what is evaluated: the train photos
// (labels unused) and, with include_iconic, the 31 studio images (the catalogue side of B).
std::vector<std::string> grocery_pretraining_images(const GroceryDataset& data, bool include_iconic);

// Loads the dataset under `grocery_root` and scores every model folder on protocols A, B, C, after
// the classical baselines when with_baselines (same run, same machine state).
std::vector<GroceryRow> evaluate_image_models(const std::filesystem::path& grocery_root,
                                              std::span<const std::filesystem::path> model_dirs,
                                              bool with_baselines);

struct ImageSpeedOptions {
  ViTMAEConfig model = ViTMAEConfig::cpu_default();  // width and depth (weights are random)
  int batch_size = 32;
  int threads = 2;           // torch's intra-op threads (decoding is one thread)
  double min_seconds = 3.0;  // per timed configuration
  int repeats = 3;           // interleaved structured/full; the median is reported
};

struct ImageSpeedRow {
  std::string input;  // "structured" or "full"
  int tokens = 0;     // patches + CLS
  double embed_images_per_second = 0;         // input tensors ready
  double decode_embed_images_per_second = 0;  // file -> decode -> views -> vector
  double min_decode_embed = 0, max_decode_embed = 0;  // spread over the repeats
  double gflop_per_image = 0;  // matmul FLOPs of the encoder for one image (analytic)
  double sgemm_gflops = 0;     // a 1024³ sgemm at the same threads, timed beside (machine state)
};

// Images/s of the same ViT on the structured input (4 views of 64², 64 patches) and the
// full-image input (224², 196 patches), decoding `files` (cycled) at the reduced size each needs.
std::vector<ImageSpeedRow> bench_image_inputs(std::span<const std::filesystem::path> files,
                                              const ImageSpeedOptions& options);

// Markdown table: input | tokens | GFLOP/image | embed img/s | GFLOP/s | decode+embed img/s
// (min–max) | × full | sgemm GFLOP/s.
std::string image_speed_markdown(std::span<const ImageSpeedRow> rows);

}  // namespace doppel
