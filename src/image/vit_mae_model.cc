#include "image/vit_mae_model.h"

#include <cmath>

#include "nn/hf_layers.h"

namespace doppel {

namespace {

torch::nn::LayerNorm layer_norm(int dim, const ViTMAEConfig& config) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(config.layer_norm_eps));
}

// MAE's initialisation (the original code; transformers' only differs for the linear layers):
// Xavier-uniform linear and patch-projection weights, zero biases, unit LayerNorms.
void init_linear_and_norms(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& child : module.modules(/*include_self=*/false)) {
    if (auto* linear = child->as<torch::nn::Linear>()) {
      torch::nn::init::xavier_uniform_(linear->weight);
      if (linear->bias.defined()) linear->bias.zero_();
    } else if (auto* norm = child->as<torch::nn::LayerNorm>()) {
      norm->weight.fill_(1);
      norm->bias.zero_();
    }
  }
}

std::vector<ViTMAELayer> register_layers(torch::nn::Module& list, int count, int hidden, int heads,
                                         int intermediate, const ViTMAEConfig& config) {
  std::vector<ViTMAELayer> layers;
  for (int i = 0; i < count; ++i) {
    layers.push_back(
        list.register_module(std::to_string(i), ViTMAELayer(hidden, heads, intermediate, config)));
  }
  return layers;
}

// position_embeddings and decoder_pos_embed are parameters that are never trained (transformers
// stores them in the checkpoint with requires_grad=False).
torch::Tensor fixed_positions(torch::nn::Module& owner, const std::string& name, int dim,
                              int grid) {
  return owner.register_parameter(name, sincos_position_embeddings(dim, grid).unsqueeze(0),
                                  /*requires_grad=*/false);
}

}  // namespace

torch::Tensor sincos_position_embeddings(int dim, int grid) {
  TORCH_CHECK(dim % 4 == 0, "sin-cos position embeddings need a multiple of 4, got ", dim);
  const int quarter = dim / 4;
  auto omega = torch::arange(quarter, torch::kFloat64).div_(quarter);
  omega = torch::pow(10000.0, -omega);  // [dim/4]
  auto coords = torch::arange(grid, torch::kFloat64);
  auto columns = coords.repeat({grid});        // j of index i·grid + j
  auto rows = coords.repeat_interleave(grid);  // i
  auto encode = [&](const torch::Tensor& pos) {
    auto angles = torch::outer(pos, omega);
    return torch::cat({torch::sin(angles), torch::cos(angles)}, 1);
  };
  auto patches = torch::cat({encode(columns), encode(rows)}, 1);  // [grid², dim]
  return torch::cat({torch::zeros({1, dim}, torch::kFloat64), patches}, 0).to(torch::kFloat32);
}

ViTMAELayerImpl::ViTMAELayerImpl(int hidden, int heads, int intermediate,
                                 const ViTMAEConfig& config)
    : heads_(heads), act_(config.hidden_act) {
  auto attention = nn::add_name_level(*this, "attention");
  auto self = nn::add_name_level(*attention, "attention");
  auto qkv = torch::nn::LinearOptions(hidden, hidden).bias(config.qkv_bias);
  query_ = self->register_module("query", torch::nn::Linear(qkv));
  key_ = self->register_module("key", torch::nn::Linear(qkv));
  value_ = self->register_module("value", torch::nn::Linear(qkv));
  attention_dense_ = nn::add_name_level(*attention, "output")
                         ->register_module("dense", torch::nn::Linear(hidden, hidden));
  intermediate_ = nn::add_name_level(*this, "intermediate")
                      ->register_module("dense", torch::nn::Linear(hidden, intermediate));
  output_dense_ = nn::add_name_level(*this, "output")
                      ->register_module("dense", torch::nn::Linear(intermediate, hidden));
  norm_before_ = register_module("layernorm_before", layer_norm(hidden, config));
  norm_after_ = register_module("layernorm_after", layer_norm(hidden, config));
  dropout_ = register_module("dropout", torch::nn::Dropout(config.hidden_dropout_prob));
  attention_dropout_ =
      register_module("attention_dropout", torch::nn::Dropout(config.attention_probs_dropout_prob));
}

torch::Tensor ViTMAELayerImpl::forward(const torch::Tensor& x) {
  const int64_t b = x.size(0), t = x.size(1), h = x.size(2), d = h / heads_;
  auto y = norm_before_(x);
  auto split_heads = [&](const torch::Tensor& z) {
    return z.view({b, t, heads_, d}).transpose(1, 2);
  };
  auto q = split_heads(query_(y));
  auto k = split_heads(key_(y));
  auto v = split_heads(value_(y));
  auto scores = torch::matmul(q, k.transpose(-1, -2)).div_(std::sqrt(static_cast<double>(d)));
  auto probs = attention_dropout_(torch::softmax(scores, -1));
  auto context = torch::matmul(probs, v).transpose(1, 2).reshape({b, t, h});
  auto attended = dropout_(attention_dense_(context)) + x;
  auto inner = nn::activation(intermediate_(norm_after_(attended)), act_);
  return dropout_(output_dense_(inner)) + attended;
}

ViTMAEModelImpl::ViTMAEModelImpl(const ViTMAEConfig& config) : config_(config) {
  config.validate();
  const int h = config.hidden_size;
  auto embeddings = nn::add_name_level(*this, "embeddings");
  cls_token_ = embeddings->register_parameter("cls_token", torch::zeros({1, 1, h}));
  position_embeddings_ = fixed_positions(*embeddings, "position_embeddings", h, config.grid());
  projection_ =
      nn::add_name_level(*embeddings, "patch_embeddings")
          ->register_module(
              "projection",
              torch::nn::Conv2d(torch::nn::Conv2dOptions(config.num_channels, h, config.patch_size)
                                    .stride(config.patch_size)));
  auto layer_list = nn::add_name_level(*nn::add_name_level(*this, "encoder"), "layer");
  layers_ = register_layers(*layer_list, config.num_hidden_layers, h, config.num_attention_heads,
                            config.intermediate_size, config);
  norm_ = register_module("layernorm", layer_norm(h, config));
  init_linear_and_norms(*this);
  torch::NoGradGuard no_grad;
  auto w = projection_->weight.view({h, -1});
  torch::nn::init::xavier_uniform_(w);
  projection_->bias.zero_();
  cls_token_.normal_(0, config.initializer_range);
}

torch::Tensor ViTMAEModelImpl::patch_tokens(const torch::Tensor& pixels) {
  TORCH_CHECK(pixels.dim() == 4 && pixels.size(1) == config_.num_channels &&
                  pixels.size(2) == pixels.size(3) && pixels.size(2) % config_.patch_size == 0,
              "ViT-MAE input must be [B, ", config_.num_channels, ", S, S] with S a multiple of ",
              config_.patch_size, ", got ", pixels.sizes());
  const int grid = static_cast<int>(pixels.size(2) / config_.patch_size);
  torch::Tensor positions = position_embeddings_;
  if (grid != config_.grid()) {
    auto& cached = other_grid_positions_[grid];
    if (!cached.defined())
      cached = sincos_position_embeddings(config_.hidden_size, grid).unsqueeze(0);
    positions = cached;
  }
  auto tokens = projection_(pixels).flatten(2).transpose(1, 2);  // [B, N, H]
  return tokens + positions.slice(1, 1);
}

torch::Tensor ViTMAEModelImpl::encode(torch::Tensor tokens) {
  for (auto& layer : layers_) tokens = layer(tokens);
  return norm_(tokens);
}

torch::Tensor ViTMAEModelImpl::forward(const torch::Tensor& pixels) {
  auto tokens = patch_tokens(pixels);
  auto cls = (cls_token_ + position_embeddings_.slice(1, 0, 1)).expand({tokens.size(0), -1, -1});
  return encode(torch::cat({cls, tokens}, 1));
}

ViTMAEModelImpl::MaskedEncoding ViTMAEModelImpl::forward_masked(const torch::Tensor& pixels,
                                                                const torch::Tensor& noise_in) {
  auto tokens = patch_tokens(pixels);
  const int64_t b = tokens.size(0), n = tokens.size(1), h = tokens.size(2);
  const auto keep = static_cast<int64_t>(static_cast<double>(n) * (1.0 - config_.mask_ratio));
  TORCH_CHECK(keep >= 1, "mask_ratio ", config_.mask_ratio, " keeps no patch of ", n);
  auto noise = noise_in.defined() ? noise_in : torch::rand({b, n});
  TORCH_CHECK(noise.sizes() == torch::IntArrayRef({b, n}), "noise must be [", b, ", ", n, "], got ",
              noise.sizes());
  auto ids_shuffle = torch::argsort(noise, /*dim=*/1, /*descending=*/false);
  auto ids_restore = torch::argsort(ids_shuffle, /*dim=*/1, /*descending=*/false);
  auto ids_keep = ids_shuffle.slice(1, 0, keep);
  auto kept = torch::gather(tokens, 1, ids_keep.unsqueeze(-1).expand({b, keep, h}));
  auto mask = torch::ones({b, n});
  mask.slice(1, 0, keep).zero_();
  mask = torch::gather(mask, 1, ids_restore);
  auto cls = (cls_token_ + position_embeddings_.slice(1, 0, 1)).expand({b, -1, -1});
  return {encode(torch::cat({cls, kept}, 1)), mask, ids_restore};
}

ViTMAEDecoderImpl::ViTMAEDecoderImpl(const ViTMAEConfig& config) {
  const int d = config.decoder_hidden_size;
  embed_ = register_module("decoder_embed", torch::nn::Linear(config.hidden_size, d));
  mask_token_ = register_parameter("mask_token", torch::zeros({1, 1, d}));
  pos_embed_ = fixed_positions(*this, "decoder_pos_embed", d, config.grid());
  auto layer_list = nn::add_name_level(*this, "decoder_layers");
  layers_ =
      register_layers(*layer_list, config.decoder_num_hidden_layers, d,
                      config.decoder_num_attention_heads, config.decoder_intermediate_size, config);
  norm_ = register_module("decoder_norm", layer_norm(d, config));
  pred_ = register_module(
      "decoder_pred",
      torch::nn::Linear(d, config.patch_size * config.patch_size * config.num_channels));
  init_linear_and_norms(*this);
  torch::NoGradGuard no_grad;
  mask_token_.normal_(0, config.initializer_range);
}

torch::Tensor ViTMAEDecoderImpl::forward(const torch::Tensor& latent,
                                         const torch::Tensor& ids_restore) {
  auto x = embed_(latent);  // [B, 1 + kept, D]
  const int64_t b = x.size(0), n = ids_restore.size(1), d = x.size(2);
  auto masked = mask_token_.expand({b, n + 1 - x.size(1), d});
  auto patches = torch::cat({x.slice(1, 1), masked}, 1);
  patches = torch::gather(patches, 1, ids_restore.unsqueeze(-1).expand({b, n, d}));
  x = torch::cat({x.slice(1, 0, 1), patches}, 1) + pos_embed_;
  for (auto& layer : layers_) x = layer(x);
  return pred_(norm_(x)).slice(1, 1);
}

ViTMAEForPreTrainingImpl::ViTMAEForPreTrainingImpl(const ViTMAEConfig& config) {
  vit = register_module("vit", ViTMAEModel(config));
  decoder = register_module("decoder", ViTMAEDecoder(config));
}

torch::Tensor ViTMAEForPreTrainingImpl::patchify(const torch::Tensor& pixels) const {
  const int64_t b = pixels.size(0), c = pixels.size(1), p = config().patch_size;
  const int64_t g = pixels.size(2) / p;
  return pixels.reshape({b, c, g, p, g, p})
      .permute({0, 2, 4, 3, 5, 1})
      .reshape({b, g * g, p * p * c});
}

ViTMAEForPreTrainingImpl::Output ViTMAEForPreTrainingImpl::forward(const torch::Tensor& pixels,
                                                                   const torch::Tensor& noise) {
  TORCH_CHECK(pixels.dim() == 4 && pixels.size(2) == config().image_size &&
                  pixels.size(3) == config().image_size,
              "pretraining input must be [B, C, ", config().image_size, ", ", config().image_size,
              "], got ", pixels.sizes());
  auto encoded = vit->forward_masked(pixels, noise);
  auto logits = decoder(encoded.hidden, encoded.ids_restore);
  auto target = patchify(pixels);
  if (config().norm_pix_loss) {
    auto mean = target.mean(-1, /*keepdim=*/true);
    auto var = target.var(-1, /*unbiased=*/true, /*keepdim=*/true);
    target = (target - mean) / (var + 1e-6).sqrt();
  }
  auto per_patch = (logits - target).pow(2).mean(-1);
  auto loss = (per_patch * encoded.mask).sum() / encoded.mask.sum();
  return {loss, logits, encoded.mask};
}

}  // namespace doppel
