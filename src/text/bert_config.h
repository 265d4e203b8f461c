// BertConfig — the shape of a BERT encoder, stored as config.json with the field names of
// Hugging Face's BertConfig, so a doppel text model folder and a `bert-base`-style checkpoint
// folder read the same way (unknown fields are ignored, as transformers does).
#pragma once

#include <filesystem>
#include <string>

namespace doppel {

struct BertConfig {
  int vocab_size = 16000;
  int hidden_size = 128;
  int num_hidden_layers = 4;
  int num_attention_heads = 2;
  int intermediate_size = 512;
  std::string hidden_act = "gelu";  // "gelu" (erf), "gelu_new"/"gelu_pytorch_tanh" (tanh), "relu"
  float hidden_dropout_prob = 0.1f;
  float attention_probs_dropout_prob = 0.1f;
  int max_position_embeddings = 64;
  int type_vocab_size = 2;
  float initializer_range = 0.02f;
  float layer_norm_eps = 1e-12f;
  int pad_token_id = 0;

  // Error naming the field when a value is out of range (hidden_size not divisible by heads, ...).
  void validate() const;

  // config.json in Hugging Face's layout (model_type "bert", architectures ["BertForMaskedLM"]).
  void save(const std::filesystem::path& config_json) const;
  // Reads config.json; Error naming the file and field for a missing or mistyped required field or
  // for model_type other than "bert". Optional fields keep the defaults above.
  static BertConfig load(const std::filesystem::path& config_json);
};

}  // namespace doppel
