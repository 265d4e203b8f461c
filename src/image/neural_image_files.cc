// The torch-free half of image/neural_image_encoder.h: the model folder's files, the input
// recipe's config. The doppel binary links this; the encoder itself lives in the neural plugin.
#include "image/neural_image_encoder.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/files.h"
#include "util/json_file.h"

namespace doppel {

namespace fs = std::filesystem;

bool ImageModelFiles::has_mae(const fs::path& dir) {
  return fs::exists(dir / kConfig) && fs::exists(dir / kWeights);
}

bool ImageModelFiles::has_head(const fs::path& dir) {
  return has_mae(dir) && fs::exists(dir / kEncoder) && fs::exists(dir / kHeadWeights);
}

bool NeuralImageEncoder::exists(const fs::path& dir) { return ImageModelFiles::has_head(dir); }

namespace {

constexpr std::pair<ImageInput, std::string_view> kInputNames[] = {
    {ImageInput::kStructured, "structured"},
    {ImageInput::kFullImage, "full"},
    {ImageInput::kRandomCells, "random"},
};

}  // namespace

bool is_missing_image(std::span<const float> row) {
  return std::all_of(row.begin(), row.end(), [](float v) { return v == 0.0f; });
}

std::string_view image_input_name(ImageInput input) {
  for (const auto& [value, name] : kInputNames) {
    if (value == input) return name;
  }
  return "?";
}

ImageInput parse_image_input(std::string_view name) {
  for (const auto& [value, known] : kInputNames) {
    if (known == name) return value;
  }
  fail("image input \"{}\" is not one of structured, full, random", name);
}

int ImageEncoderConfig::mosaic_side() const {
  return static_cast<int>(std::lround(std::sqrt(patches.view_count())));
}

int ImageEncoderConfig::input_size() const {
  return input == ImageInput::kFullImage ? full_size : mosaic_side() * patches.cell_size;
}

int ImageEncoderConfig::source_size() const {
  return input == ImageInput::kFullImage ? full_size : patches.grid * patches.cell_size;
}

void ImageEncoderConfig::validate(int patch_size) const {
  patches.validate();
  if (input != ImageInput::kFullImage && mosaic_side() * mosaic_side() != patches.view_count()) {
    fail("image encoder: {} views cannot be tiled into a square (random_cells must be 2, 7, ...)",
         patches.view_count());
  }
  if (full_size <= 0) fail("image encoder: full_size must be positive, got {}", full_size);
  if (input_size() % patch_size != 0) {
    fail(
        "image encoder: the {} input of {} px is not a multiple of the patch size {} "
        "(cell_size {})",
        image_input_name(input), input_size(), patch_size, patches.cell_size);
  }
  if (pooling != "mean" && pooling != "cls") {
    fail("image encoder: pooling \"{}\" is not one of mean, cls", pooling);
  }
  if (out_dim <= 0) fail("image encoder: out_dim must be positive, got {}", out_dim);
}

void ImageEncoderConfig::save(const std::filesystem::path& encoder_json) const {
  nlohmann::json j = {{"format_version", kFormatVersion},
                      {"input", image_input_name(input)},
                      {"cell_size", patches.cell_size},
                      {"grid", patches.grid},
                      {"random_cells", patches.random_cells},
                      {"inference_cells", patches.inference_cells},
                      {"full_size", full_size},
                      {"pooling", pooling},
                      {"out_dim", out_dim}};
  write_file_atomic(encoder_json, j.dump(2) + "\n");
}

ImageEncoderConfig ImageEncoderConfig::load(const std::filesystem::path& encoder_json) {
  const auto json = read_json_object(encoder_json);
  const JsonFields fields(json, encoder_json);
  fields.expect_format_version(kFormatVersion);
  ImageEncoderConfig c;
  std::string input;
  fields.read("input", true, input);
  fields.read("cell_size", true, c.patches.cell_size);
  fields.read("grid", true, c.patches.grid);
  fields.read("random_cells", true, c.patches.random_cells);
  fields.read("inference_cells", true, c.patches.inference_cells);
  fields.read("full_size", true, c.full_size);
  fields.read("pooling", true, c.pooling);
  fields.read("out_dim", true, c.out_dim);
  try {
    c.input = parse_image_input(input);
  } catch (const Error& e) {
    fail("{}: {}", encoder_json.string(), e.what());
  }
  return c;
}

}  // namespace doppel
