#include "image/neural_image_encoder.h"

#include <algorithm>
#include <exception>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "image/image_io.h"
#include "image/image_model.h"
#include "util/error.h"

namespace doppel {

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
  require_image_codecs();  // encode() counts a photo that does not decode as a missing image
  ImageFetcher fetcher(options.fetcher);
  return NeuralImageEncoder(std::make_unique<Impl>(Impl{std::move(model), options, std::move(fetcher)}));
}

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
