#include "text/text_model.h"

#include <algorithm>
#include <numeric>
#include <set>

#include "nn/linear.h"
#include "nn/state_dict.h"
#include "util/error.h"

namespace doppel {

namespace fs = std::filesystem;
using Files = TextModelFiles;

TokenCnnHeadImpl::TokenCnnHeadImpl(const TokenCnnHeadConfig& config, const BertConfig& bert) {
  config.validate(bert.num_hidden_layers);
  const int states = bert.num_hidden_layers + 1;
  for (int layer : config.layers) state_indices_.push_back(layer < 0 ? states + layer : layer);
  int in_channels = static_cast<int>(config.layers.size()) * bert.hidden_size;
  if (config.bottleneck > 0 && config.bottleneck < in_channels) {
    bottleneck_ = register_module("bottleneck", torch::nn::Linear(in_channels, config.bottleneck));
    in_channels = config.bottleneck;
  }
  conv_ = register_module(
      "conv", torch::nn::Conv1d(torch::nn::Conv1dOptions(in_channels, config.channels, config.kernel_size)
                                    .padding(config.kernel_size / 2)));
  projection_ = register_module("projection", torch::nn::Linear(config.channels, config.out_dim));
}

torch::Tensor TokenCnnHeadImpl::forward(const std::vector<torch::Tensor>& states,
                                        const torch::Tensor& mask) {
  std::vector<torch::Tensor> picked;
  for (size_t i : state_indices_) picked.push_back(states.at(i));
  auto x = torch::cat(picked, -1);  // [B, T, L*H]
  if (bottleneck_) x = nn::linear(x, bottleneck_->weight, bottleneck_->bias);  // [B, T, bottleneck]
  // Padding is zeroed before the convolution, as the convolution's own padding is: a text gets the
  // same vector in a padded batch (training) as alone or among equal lengths (embed_all).
  const auto padding = mask.defined() ? (mask == 0).unsqueeze(-1) : torch::Tensor();  // [B, T, 1]
  if (padding.defined()) x = x.masked_fill(padding, 0);
  auto features = torch::gelu(conv_(x.transpose(1, 2)));  // [B, C, T]
  if (padding.defined()) features = features.masked_fill(padding.transpose(1, 2), -1e4);
  auto pooled = std::get<0>(features.max(2));
  return torch::nn::functional::normalize(
      nn::linear(pooled, projection_->weight, projection_->bias),
      torch::nn::functional::NormalizeFuncOptions().dim(1).eps(1e-12));
}

TokenBatch pad_batch(std::span<const std::vector<int32_t>> sequences, int32_t pad_id) {
  size_t longest = 0;
  for (const auto& s : sequences) longest = std::max(longest, s.size());
  const auto rows = static_cast<int64_t>(sequences.size());
  const auto cols = static_cast<int64_t>(longest);
  auto ids = torch::full({rows, cols}, pad_id, torch::kInt64);
  auto mask = torch::zeros({rows, cols}, torch::kInt64);
  auto ids_a = ids.accessor<int64_t, 2>();
  auto mask_a = mask.accessor<int64_t, 2>();
  for (int64_t r = 0; r < rows; ++r) {
    const auto& s = sequences[static_cast<size_t>(r)];
    for (size_t c = 0; c < s.size(); ++c) {
      ids_a[r][static_cast<int64_t>(c)] = s[c];
      mask_a[r][static_cast<int64_t>(c)] = 1;
    }
  }
  return {ids, mask};
}

TextModel::TextModel(const BertConfig& bert, const TokenCnnHeadConfig& head, WordPieceTokenizer tokenizer)
    : bert_config_(bert), head_config_(head), tokenizer_(std::move(tokenizer)) {
  if (tokenizer_.vocab().size() != bert_config_.vocab_size) {
    fail("text model: vocabulary has {} tokens but config.json says vocab_size {}",
         tokenizer_.vocab().size(), bert_config_.vocab_size);
  }
  if (head_config_.max_length > bert_config_.max_position_embeddings) {
    fail("text model: max_length {} exceeds the model's max_position_embeddings {}",
         head_config_.max_length, bert_config_.max_position_embeddings);
  }
  mlm_ = BertForMaskedLM(bert_config_);
  head_ = TokenCnnHead(head_config_, bert_config_);
}

TextModel TextModel::load(const fs::path& dir, bool require_head,
                          const std::optional<TokenCnnHeadConfig>& fallback_head) {
  for (const char* file : {Files::kConfig, Files::kWeights, Files::kVocab}) {
    if (!fs::exists(dir / file)) {
      fail("{}: missing; train the text model first (doppel train tokenizer, then doppel train text "
           "--stage mlm)", (dir / file).string());
    }
  }
  const bool head_present = fs::exists(dir / Files::kEncoder);
  if (require_head && !head_present) {
    fail("{}: missing; the text model has no matching head yet (doppel train text --stage match)",
         (dir / Files::kEncoder).string());
  }
  auto bert = BertConfig::load(dir / Files::kConfig);
  auto head = head_present ? TokenCnnHeadConfig::load(dir / Files::kEncoder)
                           : fallback_head.value_or(default_head_for(bert));
  TextModel model(
      bert, head,
      WordPieceTokenizer(Vocabulary::load(dir / Files::kVocab), load_tokenizer_config(dir)));
  nn::LoadOptions bert_options;
  bert_options.ignore_unexpected = bert_ignored_checkpoint_names();
  // A plain BertModel checkpoint has no "bert." prefix and no MLM head.
  auto checkpoint = nn::load_state_dict(dir / Files::kWeights);
  const bool bare = std::none_of(checkpoint.begin(), checkpoint.end(),
                                 [](const auto& t) { return t.first.starts_with("bert."); });
  if (bare) {
    bert_options.allow_missing = {R"(^cls\.)"};
    nn::load_into(*model.mlm_->bert, checkpoint, bert_options, (dir / Files::kWeights).string());
  } else {
    nn::load_into(*model.mlm_, checkpoint, bert_options, (dir / Files::kWeights).string());
  }
  if (head_present) {
    if (!fs::exists(dir / Files::kHeadWeights))
      fail("{}: missing", (dir / Files::kHeadWeights).string());
    nn::load_into(*model.head_, nn::load_state_dict(dir / Files::kHeadWeights), {},
                  (dir / Files::kHeadWeights).string());
  }
  return model;
}

void TextModel::save_bert(const fs::path& dir) const {
  fs::create_directories(dir);
  bert_config_.save(dir / Files::kConfig);
  nn::save_state_dict(dir / Files::kWeights, nn::module_state(*mlm_));
  tokenizer_.vocab().save(dir / Files::kVocab);
  save_tokenizer_config(dir, tokenizer_.options());
}

void TextModel::save_head(const fs::path& dir) const {
  fs::create_directories(dir);
  nn::save_state_dict(dir / Files::kHeadWeights, nn::module_state(*head_));
  head_config_.save(dir / Files::kEncoder);
}

std::vector<int32_t> TextModel::tokenize(std::string_view text) const {
  return tokenizer_.encode_for_model(text, head_config_.max_length);
}

torch::Tensor TextModel::embed(const TokenBatch& batch) {
  return head_(mlm_->bert(batch.ids, batch.mask), batch.mask);
}

torch::Tensor TextModel::embed_all(std::span<const std::vector<int32_t>> sequences, int batch_size) {
  DOPPEL_CHECK(batch_size > 0, "batch_size {}", batch_size);
  std::vector<size_t> order(sequences.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return sequences[a].size() < sequences[b].size(); });
  torch::InferenceMode inference;
  auto out = torch::zeros({static_cast<int64_t>(sequences.size()), head_config_.out_dim});
  // Batches hold sequences of one length only: nothing is padded, so no compute goes to padding,
  // no attention mask is needed, and a text's vector does not depend on its batch neighbours.
  std::vector<int64_t> ids, targets;
  auto flush = [&] {
    if (targets.empty()) return;
    const auto rows = static_cast<int64_t>(targets.size());
    auto batch = torch::tensor(ids, torch::kInt64).view({rows, -1});
    out.index_copy_(0, torch::tensor(targets, torch::kInt64), embed({batch, {}}));
    ids.clear();
    targets.clear();
  };
  size_t length = 0;
  for (size_t i : order) {
    if (sequences[i].empty()) continue;
    if (sequences[i].size() != length || targets.size() == static_cast<size_t>(batch_size)) flush();
    length = sequences[i].size();
    ids.insert(ids.end(), sequences[i].begin(), sequences[i].end());
    targets.push_back(static_cast<int64_t>(i));
  }
  flush();
  return out;
}

void TextModel::train(bool on) {
  mlm_->train(on);
  head_->train(on);
}

}  // namespace doppel
