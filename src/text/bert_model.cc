#include "text/bert_model.h"

#include <cmath>

#include "nn/hf_layers.h"
#include "nn/linear.h"

namespace doppel {

namespace {

torch::nn::LayerNorm layer_norm(const BertConfig& config) {
  return torch::nn::LayerNorm(
      torch::nn::LayerNormOptions({config.hidden_size}).eps(config.layer_norm_eps));
}

}  // namespace

BertLayerImpl::BertLayerImpl(const BertConfig& config)
    : heads_(config.num_attention_heads), act_(config.hidden_act) {
  const int h = config.hidden_size;
  auto attention = nn::add_name_level(*this, "attention");
  auto self = nn::add_name_level(*attention, "self");
  query_ = self->register_module("query", torch::nn::Linear(h, h));
  key_ = self->register_module("key", torch::nn::Linear(h, h));
  value_ = self->register_module("value", torch::nn::Linear(h, h));
  auto attention_output = nn::add_name_level(*attention, "output");
  attention_dense_ = attention_output->register_module("dense", torch::nn::Linear(h, h));
  attention_norm_ = attention_output->register_module("LayerNorm", layer_norm(config));
  intermediate_ = nn::add_name_level(*this, "intermediate")
                      ->register_module("dense", torch::nn::Linear(h, config.intermediate_size));
  auto output = nn::add_name_level(*this, "output");
  output_dense_ = output->register_module("dense", torch::nn::Linear(config.intermediate_size, h));
  output_norm_ = output->register_module("LayerNorm", layer_norm(config));
  dropout_ = register_module("dropout", torch::nn::Dropout(config.hidden_dropout_prob));
  attention_dropout_ =
      register_module("attention_dropout", torch::nn::Dropout(config.attention_probs_dropout_prob));
}

torch::Tensor BertLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& additive_mask) {
  const int64_t b = x.size(0), t = x.size(1), h = x.size(2), d = h / heads_;
  // Query, key and value in one product, the 1/sqrt(d) of the scores folded into the query's
  // weights (the parameters stay separate, under Hugging Face's names).
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  const auto qkv_weight = torch::cat({query_->weight * scale, key_->weight, value_->weight});
  const auto qkv_bias = torch::cat({query_->bias * scale, key_->bias, value_->bias});
  auto qkv =
      nn::linear(x, qkv_weight, qkv_bias).view({b, t, 3, heads_, d}).permute({2, 0, 3, 1, 4});
  auto scores = torch::matmul(qkv[0], qkv[1].transpose(-1, -2));  // [B, heads, T, T]
  if (additive_mask.defined()) scores.add_(additive_mask);
  auto probs = attention_dropout_(torch::softmax(scores, -1));
  auto context = torch::matmul(probs, qkv[2]).transpose(1, 2).reshape({b, t, h});
  auto attended = attention_norm_(
      dropout_(nn::linear(context, attention_dense_->weight, attention_dense_->bias)) + x);
  auto inner =
      nn::activation(nn::linear(attended, intermediate_->weight, intermediate_->bias), act_);
  return output_norm_(dropout_(nn::linear(inner, output_dense_->weight, output_dense_->bias)) +
                      attended);
}

BertModelImpl::BertModelImpl(const BertConfig& config) : config_(config) {
  config.validate();
  const int h = config.hidden_size;
  auto embeddings = nn::add_name_level(*this, "embeddings");
  word_embeddings_ = embeddings->register_module(
      "word_embeddings",
      torch::nn::Embedding(
          torch::nn::EmbeddingOptions(config.vocab_size, h).padding_idx(config.pad_token_id)));
  position_embeddings_ = embeddings->register_module(
      "position_embeddings", torch::nn::Embedding(config.max_position_embeddings, h));
  token_type_embeddings_ = embeddings->register_module(
      "token_type_embeddings", torch::nn::Embedding(config.type_vocab_size, h));
  embedding_norm_ = embeddings->register_module("LayerNorm", layer_norm(config));
  dropout_ = register_module("dropout", torch::nn::Dropout(config.hidden_dropout_prob));
  auto layer_list = nn::add_name_level(*nn::add_name_level(*this, "encoder"), "layer");
  for (int i = 0; i < config.num_hidden_layers; ++i) {
    layers_.push_back(layer_list->register_module(std::to_string(i), BertLayer(config)));
  }
  init_bert_weights(*this, config);
}

std::vector<torch::Tensor> BertModelImpl::forward(const torch::Tensor& ids,
                                                  const torch::Tensor& mask) {
  const int64_t t = ids.size(1);
  TORCH_CHECK(t <= config_.max_position_embeddings, "sequence of ", t,
              " tokens exceeds max_position_embeddings ", config_.max_position_embeddings);
  auto positions = torch::arange(t, ids.options());
  // Token type 0 everywhere: titles are single segments.
  auto x = word_embeddings_(ids) + position_embeddings_(positions).unsqueeze(0) +
           token_type_embeddings_->weight[0];
  x = dropout_(embedding_norm_(x));
  torch::Tensor additive_mask;  // none when nothing is padded
  if (mask.defined()) {
    additive_mask = (1.0 - mask.to(x.dtype())).mul_(-1e4).view({mask.size(0), 1, 1, t});
  }
  std::vector<torch::Tensor> states{x};
  states.reserve(layers_.size() + 1);
  for (auto& layer : layers_) states.push_back(layer(states.back(), additive_mask));
  return states;
}

BertForMaskedLMImpl::BertForMaskedLMImpl(const BertConfig& config) : act_(config.hidden_act) {
  bert = register_module("bert", BertModel(config));
  auto cls = nn::add_name_level(*this, "cls");
  auto predictions = nn::add_name_level(*cls, "predictions");
  auto transform = nn::add_name_level(*predictions, "transform");
  transform_dense_ = transform->register_module(
      "dense", torch::nn::Linear(config.hidden_size, config.hidden_size));
  transform_norm_ = transform->register_module("LayerNorm", layer_norm(config));
  decoder_bias_ = predictions->register_parameter("bias", torch::zeros({config.vocab_size}));
  init_bert_weights(*cls, config);  // bert initialised itself
}

torch::Tensor BertForMaskedLMImpl::mlm_logits(const torch::Tensor& masked_hidden) {
  auto h = transform_norm_(nn::activation(transform_dense_(masked_hidden), act_));
  return torch::nn::functional::linear(h, bert->word_embedding_weight(), decoder_bias_);
}

void init_bert_weights(torch::nn::Module& module, const BertConfig& config) {
  torch::NoGradGuard no_grad;
  // include_self = false: this runs inside constructors, before the module is held by a shared_ptr.
  for (auto& child : module.modules(/*include_self=*/false)) {
    if (auto* linear = child->as<torch::nn::Linear>()) {
      linear->weight.normal_(0, config.initializer_range);
      if (linear->bias.defined()) linear->bias.zero_();
    } else if (auto* embedding = child->as<torch::nn::Embedding>()) {
      embedding->weight.normal_(0, config.initializer_range);
      if (auto pad = embedding->options.padding_idx()) embedding->weight[*pad].zero_();
    } else if (auto* norm = child->as<torch::nn::LayerNorm>()) {
      norm->weight.fill_(1);
      norm->bias.zero_();
    }
  }
}

std::vector<std::string> bert_ignored_checkpoint_names() {
  return {R"(^bert\.pooler\.)", R"(^pooler\.)", R"(^cls\.seq_relationship\.)",
          R"(^cls\.predictions\.decoder\.)", R"(position_ids$)"};
}

}  // namespace doppel
