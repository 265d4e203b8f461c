// TextModel — the trainable whole behind NeuralTextEncoder: tokenizer, BERT with its MLM head, and
// the CNN aggregation head, loaded from and saved to a model folder (layout in
// neural_text_encoder.h). Shared by the MLM and match trainers and the encoder.
//
// Internal to the torch-using .cc files of the text module.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "text/bert_config.h"
#include "text/bert_model.h"
#include "text/neural_text_encoder.h"
#include "text/wordpiece.h"

namespace doppel {

class TokenCnnHeadImpl : public torch::nn::Module {
 public:
  TokenCnnHeadImpl(const TokenCnnHeadConfig& config, const BertConfig& bert);
  // states: BertModel::forward output; mask [B,T]. Returns [B,out_dim], L2-normalised.
  torch::Tensor forward(const std::vector<torch::Tensor>& states, const torch::Tensor& mask);

 private:
  std::vector<size_t> state_indices_;
  torch::nn::Linear bottleneck_{nullptr};  // absent when TokenCnnHeadConfig::bottleneck is 0
  torch::nn::Conv1d conv_{nullptr};
  torch::nn::Linear projection_{nullptr};
};
TORCH_MODULE(TokenCnnHead);

// Token ids and attention mask [B,T] of a batch, padded to its longest sequence; an undefined
// mask when all sequences have the same length.
struct TokenBatch {
  torch::Tensor ids;
  torch::Tensor mask;
};
TokenBatch pad_batch(std::span<const std::vector<int32_t>> sequences, int32_t pad_id);

class TextModel {
 public:
  // A fresh model: random BERT and head for a trained tokenizer.
  TextModel(const BertConfig& bert, const TokenCnnHeadConfig& head, WordPieceTokenizer tokenizer);

  // Loads config.json, model.safetensors, vocab.txt and tokenizer_config.json; encoder.json and
  // head.safetensors when present, else a fresh head shaped by `fallback_head` or, without one,
  // default_head_for() (an error when require_head). Errors name the file.
  static TextModel load(const std::filesystem::path& dir, bool require_head,
                        const std::optional<TokenCnnHeadConfig>& fallback_head = std::nullopt);

  void save_bert(const std::filesystem::path& dir) const;  // config, weights, vocab, tokenizer
  void save_head(const std::filesystem::path& dir) const;  // encoder.json + head.safetensors

  // [CLS] pieces [SEP], at most head_config().max_length ids.
  std::vector<int32_t> tokenize(std::string_view text) const;
  // Head over BERT: [B,out_dim] L2-normalised.
  torch::Tensor embed(const TokenBatch& batch);
  // Embeds many token sequences [N,out_dim] under InferenceMode, in batches of at most batch_size
  // sequences of equal length. Empty sequences give zero rows.
  torch::Tensor embed_all(std::span<const std::vector<int32_t>> sequences, int batch_size);

  const BertConfig& bert_config() const { return bert_config_; }
  const TokenCnnHeadConfig& head_config() const { return head_config_; }
  const WordPieceTokenizer& tokenizer() const { return tokenizer_; }
  BertForMaskedLM& mlm() { return mlm_; }
  TokenCnnHead& head() { return head_; }
  void train(bool on);

 private:
  BertConfig bert_config_;
  TokenCnnHeadConfig head_config_;
  WordPieceTokenizer tokenizer_;
  BertForMaskedLM mlm_{nullptr};
  TokenCnnHead head_{nullptr};
};

}  // namespace doppel
