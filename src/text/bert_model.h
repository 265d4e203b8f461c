// BERT encoder and masked-language-model head as libtorch modules whose parameter names are the
// Hugging Face ones, so module_state()/load_into() (nn/state_dict.h) move weights between doppel
// and transformers checkpoints without a renaming table:
//
//   BertModel        embeddings.{word,position,token_type}_embeddings.weight, embeddings.LayerNorm.*
//                    encoder.layer.<i>.attention.self.{query,key,value}.*
//                    encoder.layer.<i>.attention.output.{dense,LayerNorm}.*
//                    encoder.layer.<i>.intermediate.dense.*, encoder.layer.<i>.output.{dense,LayerNorm}.*
//   BertForMaskedLM  bert.<BertModel names>, cls.predictions.transform.{dense,LayerNorm}.*,
//                    cls.predictions.bias; the decoder weight is tied to the word embeddings and
//                    not stored (transformers re-ties it on load).
//
// Internal to the torch-using .cc files of the text module: including this header costs a
// libtorch compile, so public headers never do.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "text/bert_config.h"

namespace doppel {

class BertLayerImpl : public torch::nn::Module {
 public:
  explicit BertLayerImpl(const BertConfig& config);
  // x [B,T,H]; additive_mask [B,1,1,T] (0 for tokens, a large negative for padding), or
  // undefined when no token is padding.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& additive_mask);

 private:
  int heads_;
  std::string act_;
  torch::nn::Linear query_{nullptr}, key_{nullptr}, value_{nullptr}, attention_dense_{nullptr};
  torch::nn::LayerNorm attention_norm_{nullptr};
  torch::nn::Linear intermediate_{nullptr}, output_dense_{nullptr};
  torch::nn::LayerNorm output_norm_{nullptr};
  torch::nn::Dropout dropout_{nullptr}, attention_dropout_{nullptr};
};
TORCH_MODULE(BertLayer);

class BertModelImpl : public torch::nn::Module {
 public:
  explicit BertModelImpl(const BertConfig& config);

  // ids and mask [B,T] int64 (mask 1 for tokens, 0 for padding; T <= max_position_embeddings);
  // an undefined mask says that no token is padding (a batch of equal lengths).
  // Returns num_hidden_layers + 1 hidden states [B,T,H]: the embedding output, then each layer's.
  std::vector<torch::Tensor> forward(const torch::Tensor& ids, const torch::Tensor& mask);

  const BertConfig& config() const { return config_; }
  torch::Tensor word_embedding_weight() const { return word_embeddings_->weight; }

 private:
  BertConfig config_;
  torch::nn::Embedding word_embeddings_{nullptr}, position_embeddings_{nullptr},
      token_type_embeddings_{nullptr};
  torch::nn::LayerNorm embedding_norm_{nullptr};
  torch::nn::Dropout dropout_{nullptr};
  std::vector<BertLayer> layers_;
};
TORCH_MODULE(BertModel);

class BertForMaskedLMImpl : public torch::nn::Module {
 public:
  explicit BertForMaskedLMImpl(const BertConfig& config);

  // Vocabulary logits [N,V] for hidden states [N,H] of the masked positions only: projecting
  // every position onto the vocabulary would cost ~2x the whole training step.
  torch::Tensor mlm_logits(const torch::Tensor& masked_hidden);

  BertModel bert{nullptr};

 private:
  torch::nn::Linear transform_dense_{nullptr};
  torch::nn::LayerNorm transform_norm_{nullptr};
  torch::Tensor decoder_bias_;
  std::string act_;
};
TORCH_MODULE(BertForMaskedLM);

// HF's initialisation: normal(0, initializer_range) weights, zero biases, unit LayerNorms, a zero
// row for the padding token.
void init_bert_weights(torch::nn::Module& module, const BertConfig& config);

// The names a BertForMaskedLM checkpoint may carry that doppel does not use (pooler, next-sentence
// head, the tied decoder, position_ids buffers), for nn::LoadOptions::ignore_unexpected.
std::vector<std::string> bert_ignored_checkpoint_names();

}  // namespace doppel
