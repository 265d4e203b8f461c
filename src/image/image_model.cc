#include "image/image_model.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "nn/state_dict.h"
#include "util/error.h"
#include "util/hash.h"

namespace doppel {

namespace fs = std::filesystem;
using Files = ImageModelFiles;

namespace {

constexpr const char* kHeadPrefix = "projection.";

torch::nn::Linear make_head(const ViTMAEConfig& mae, const ImageEncoderConfig& encoder) {
  torch::nn::Linear head(mae.hidden_size, encoder.out_dim);
  torch::NoGradGuard no_grad;
  head->weight.zero_();
  head->bias.zero_();
  return head;
}

// transformers 5 saves ViTMAEForPreTraining's decoder layers as "decoder.decoder_encoder.layer.<i>"
// (its generic ViT renaming "encoder.layer." <-> "layers." applied to "decoder_layers.<i>" on
// save) and reads both spellings; checkpoints from transformers 4 and the hub's facebook/vit-mae-*
// use "decoder.decoder_layers.<i>", which is what doppel writes.
void accept_transformers5_decoder_names(nn::StateDict& checkpoint) {
  constexpr std::string_view kSaved = "decoder.decoder_encoder.layer.";
  for (auto& [name, tensor] : checkpoint) {
    if (name.starts_with(kSaved)) name = "decoder.decoder_layers." + name.substr(kSaved.size());
  }
}

uint64_t pixel_hash(const cv::Mat& rgb) {
  uint64_t state = kFnv1aOffset;
  for (int y = 0; y < rgb.rows; ++y) {
    const auto* row = rgb.ptr<char>(y);
    state = fnv1a64(std::string_view(row, static_cast<size_t>(rgb.cols) * rgb.elemSize()), state);
  }
  return state;
}

// [n, V, 3, c, c] views -> [n, 3, side·c, side·c], view v in row v / side, column v % side.
torch::Tensor tile_views(const torch::Tensor& views, int side) {
  const int64_t n = views.size(0), c = views.size(3);
  return views.view({n, side, side, 3, c, c})
      .permute({0, 3, 1, 4, 2, 5})
      .reshape({n, 3, side * c, side * c});
}

}  // namespace

ImageModel::ImageModel(const ViTMAEConfig& mae, const ImageEncoderConfig& encoder)
    : mae_config_(mae), encoder_config_(encoder) {
  mae_config_.validate();
  encoder_config_.validate(mae_config_.patch_size);
  if (mae_config_.num_channels != 3) {
    fail("image model: num_channels is {}, images are RGB (3)", mae_config_.num_channels);
  }
  mae_ = ViTMAEForPreTraining(mae_config_);
  head_ = make_head(mae_config_, encoder_config_);
}

bool ImageModel::pretrainable() const {
  return mae_config_.image_size == encoder_config_.input_size();
}

ImageModel ImageModel::load_mae(const fs::path& dir, const ImageEncoderConfig& encoder) {
  for (const char* file : {Files::kConfig, Files::kWeights}) {
    if (!fs::exists(dir / file)) {
      fail("{}: missing; pretrain the image model first (doppel train image)", (dir / file).string());
    }
  }
  ImageModel model(ViTMAEConfig::load(dir / Files::kConfig), encoder);
  // transformers' ViTMAEModel.save_pretrained writes the encoder alone, without "vit." and the
  // decoder: enough to embed (the decoder keeps its initial values).
  const fs::path weights = dir / Files::kWeights;
  auto checkpoint = nn::load_state_dict(weights);
  accept_transformers5_decoder_names(checkpoint);
  const bool bare = std::none_of(checkpoint.begin(), checkpoint.end(),
                                 [](const auto& t) { return t.first.starts_with("vit."); });
  if (bare) {
    nn::load_into(*model.mae_->vit, checkpoint, {}, weights.string());
  } else {
    nn::load_into(*model.mae_, checkpoint, {}, weights.string());
  }
  return model;
}

ImageModel ImageModel::load(const fs::path& dir) {
  for (const char* file : {Files::kEncoder, Files::kHeadWeights}) {
    if (!fs::exists(dir / file)) {
      fail("{}: missing; the image model has no head yet (doppel train image fits one)",
           (dir / file).string());
    }
  }
  ImageModel model = load_mae(dir, ImageEncoderConfig::load(dir / Files::kEncoder));
  const fs::path head = dir / Files::kHeadWeights;
  nn::load_into(*model.head_, nn::load_state_dict(head), {.strip_prefixes = {kHeadPrefix}},
                head.string());
  return model;
}

void ImageModel::save_mae(const fs::path& dir) const {
  fs::create_directories(dir);
  mae_config_.save(dir / Files::kConfig);
  nn::save_state_dict(dir / Files::kWeights, nn::module_state(*mae_));
}

void ImageModel::save_head(const fs::path& dir) const {
  fs::create_directories(dir);
  nn::save_state_dict(dir / Files::kHeadWeights, nn::module_state(*head_, kHeadPrefix));
  encoder_config_.save(dir / Files::kEncoder);
}

torch::Tensor ImageModel::inputs(std::span<const cv::Mat> images, std::optional<uint64_t> seed) const {
  const ImageEncoderConfig& c = encoder_config_;
  const auto n = static_cast<int64_t>(images.size());
  if (c.input == ImageInput::kFullImage) {
    const int s = c.full_size;
    auto out = torch::empty({n, 3, s, s});
    const size_t per_image = 3 * static_cast<size_t>(s) * s;
    for (int64_t i = 0; i < n; ++i) {
      to_chw_float(full_image_view(images[i], s, c.patches.fill),
                   std::span(out.data_ptr<float>() + i * per_image, per_image));
    }
    return out;
  }
  const int views = c.patches.view_count(), cell = c.patches.cell_size;
  auto out = torch::empty({n, views, 3, cell, cell});
  const size_t per_image = static_cast<size_t>(views) * 3 * cell * cell;
  for (int64_t i = 0; i < n; ++i) {
    const cv::Mat& image = images[i];
    PatchSelection selection;
    if (c.input == ImageInput::kRandomCells) {
      const uint64_t draw = seed ? *seed + static_cast<uint64_t>(i) : pixel_hash(image);
      selection = random_patches(image, c.patches, views, draw);
    } else if (seed) {
      selection = select_patches(image, c.patches, *seed + static_cast<uint64_t>(i));
    } else {
      selection = select_patches(image, c.patches);
    }
    views_to_chw_float(selection.views, std::span(out.data_ptr<float>() + i * per_image, per_image));
  }
  return tile_views(out, c.mosaic_side());
}

torch::Tensor ImageModel::pooled(const torch::Tensor& pixels) {
  auto hidden = mae_->vit(pixels);  // [B, 1 + N, H]
  if (encoder_config_.pooling == "cls") return hidden.select(1, 0);
  return hidden.slice(1, 1).mean(1);
}

torch::Tensor ImageModel::project(const torch::Tensor& pooled_features) {
  return torch::nn::functional::normalize(
      head_(pooled_features), torch::nn::functional::NormalizeFuncOptions().dim(1).eps(1e-12));
}

torch::Tensor ImageModel::embed(const torch::Tensor& pixels) { return project(pooled(pixels)); }

void ImageModel::train(bool on) {
  mae_->train(on);
  head_->train(on);
}

}  // namespace doppel
