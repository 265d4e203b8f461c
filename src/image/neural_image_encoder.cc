#include "image/neural_image_encoder.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "image/image_model.h"
#include "util/error.h"
#include "util/files.h"
#include "util/json_file.h"

namespace doppel {

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
    fail("image encoder: the {} input of {} px is not a multiple of the patch size {} (cell_size {})",
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

struct NeuralImageEncoder::Impl {
  ImageModel model;
  Options options;
  ImageFetcher fetcher;
};

NeuralImageEncoder::NeuralImageEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NeuralImageEncoder::NeuralImageEncoder(NeuralImageEncoder&&) noexcept = default;
NeuralImageEncoder& NeuralImageEncoder::operator=(NeuralImageEncoder&&) noexcept = default;
NeuralImageEncoder::~NeuralImageEncoder() = default;

NeuralImageEncoder NeuralImageEncoder::load(const std::filesystem::path& dir, const Options& options) {
  if (options.batch_size <= 0) {
    fail("image encoder: batch_size must be positive, got {}", options.batch_size);
  }
  auto model = ImageModel::load(dir);
  model.train(false);
  ImageFetcher fetcher(options.fetcher);
  return NeuralImageEncoder(std::make_unique<Impl>(Impl{std::move(model), options, std::move(fetcher)}));
}

bool NeuralImageEncoder::exists(const std::filesystem::path& dir) { return ImageModel::has_head(dir); }

std::string NeuralImageEncoder::name() const {
  const auto& m = impl_->model.mae_config();
  const auto& e = impl_->model.encoder_config();
  return fmt::format("vitmae-L{}-H{}-{}-{}-{}", m.num_hidden_layers, m.hidden_size,
                     image_input_name(e.input), e.pooling, e.out_dim);
}

int NeuralImageEncoder::dim() const { return impl_->model.encoder_config().out_dim; }

const ImageEncoderConfig& NeuralImageEncoder::config() const { return impl_->model.encoder_config(); }

void NeuralImageEncoder::encode_images(std::span<const cv::Mat> images, float* out) const {
  ImageModel& model = impl_->model;
  torch::InferenceMode inference;
  const size_t batch = static_cast<size_t>(impl_->options.batch_size);
  const size_t d = static_cast<size_t>(dim());
  for (size_t start = 0; start < images.size(); start += batch) {
    const auto chunk = images.subspan(start, std::min(batch, images.size() - start));
    auto vectors = model.embed(model.inputs(chunk, std::nullopt)).contiguous();
    std::copy_n(vectors.data_ptr<float>(), vectors.numel(), out + start * d);
  }
}

void NeuralImageEncoder::encode(std::span<const Listing> listings, float* out) const {
  const size_t d = static_cast<size_t>(dim());
  std::fill_n(out, listings.size() * d, 0.0f);
  DecodeOptions decode;
  decode.target_size = config().source_size();
  const size_t batch = static_cast<size_t>(impl_->options.batch_size);
  std::vector<cv::Mat> images;
  std::vector<size_t> rows;
  auto flush = [&] {
    if (images.empty()) return;
    std::vector<float> vectors(images.size() * d);
    encode_images(images, vectors.data());
    for (size_t i = 0; i < rows.size(); ++i) {
      std::copy_n(vectors.data() + i * d, d, out + rows[i] * d);
    }
    images.clear();
    rows.clear();
  };
  for (size_t i = 0; i < listings.size(); ++i) {
    const Listing& listing = listings[i];
    if (listing.image.empty()) continue;
    try {
      images.push_back(impl_->fetcher.load(listing.image, decode));
      rows.push_back(i);
    } catch (const std::exception& e) {  // doppel::Error, or OpenCV/allocation failures
      spdlog::warn("listing {}: image not embedded (zero vector): {}", listing.id, e.what());
      continue;
    }
    if (images.size() == batch) flush();
  }
  flush();
}

}  // namespace doppel
