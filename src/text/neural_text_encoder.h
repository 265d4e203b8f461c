// NeuralTextEncoder — the BERT text encoder behind the Encoder interface: WordPiece tokens ->
// domain BERT -> token states of a few intermediate layers -> 1-D CNN over the token axis ->
// max-pool -> projection -> L2-normalised vector.
//
// Model folder (ws/models/text/, also what `doppel train text` writes):
//   config.json            BertConfig in Hugging Face's layout (text/bert_config.h)
//   model.safetensors      BertForMaskedLM weights under Hugging Face names (text/bert_model.h)
//   vocab.txt              WordPiece vocabulary, one token per line
//   tokenizer_config.json  tokenizer options under Hugging Face names (do_lower_case, ...)
//   encoder.json           doppel's part: head shape, max_length, format_version
//   head.safetensors       the CNN head's weights (bottleneck.*, conv.*, projection.*)
// A folder with the first three files is any BERT checkpoint; encoder.json and head.safetensors
// appear once a head is attached (`doppel train text --stage match`).
#pragma once

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "catalog/encoder.h"
#include "text/bert_config.h"

namespace doppel {

// The files of a model folder, as listed above. Like the head's config and model_text() below,
// they need no torch: the doppel binary uses them without loading the neural plugin.
struct TextModelFiles {
  static constexpr const char* kConfig = "config.json";
  static constexpr const char* kWeights = "model.safetensors";
  static constexpr const char* kVocab = "vocab.txt";
  static constexpr const char* kEncoder = "encoder.json";
  static constexpr const char* kHeadWeights = "head.safetensors";
  static bool has_bert(const std::filesystem::path& dir);  // config, weights and vocabulary
  static bool has_head(const std::filesystem::path& dir);  // and encoder.json, head.safetensors
};

// The aggregation head's shape, saved in encoder.json. Version 1 files (before the bottleneck
// existed) still load, as bottleneck 0.
struct TokenCnnHeadConfig {
  static constexpr int kFormatVersion = 2;
  static constexpr int kOldestFormatVersion = 1;
  // Hidden states fed to the CNN, concatenated along the channel axis; negative counts from the
  // last layer (-1 = last), 0 is the embedding output. Duplicates are not allowed.
  std::vector<int> layers = {-4, -3, -2, -1};
  // Channels of a per-token linear map (a 1x1 convolution) from the concatenated states down to
  // the convolution's input, so that the kernel-3 convolution costs bottleneck x channels x 3 per
  // token instead of layers x hidden x channels x 3 (docs/results.md, BERT speed). 0, or a width
  // not below the concatenation's, feeds the concatenation to the convolution directly.
  int bottleneck = 128;
  int channels = 256;    // CNN output channels
  int kernel_size = 3;   // tokens per convolution window (odd)
  int out_dim = 128;     // the vector's dimension
  int max_length = 48;   // tokens per text, [CLS] and [SEP] included

  // Error naming the field; layers are checked against the model's depth.
  void validate(int num_hidden_layers) const;
  void save(const std::filesystem::path& encoder_json) const;
  static TokenCnnHeadConfig load(const std::filesystem::path& encoder_json);
};

// The default head fitted to a model: its last (up to) 4 layers, max_length within its positions.
TokenCnnHeadConfig default_head_for(const BertConfig& bert);

// The text the neural encoder reads for a listing: the title, then brand and model number when the
// title does not already contain them. Descriptions are left out: titles carry the identity, and
// short sequences keep the encoder fast.
std::string model_text(const Listing& listing);

// Implemented in the neural plugin (libtorch); the doppel binary reaches it through
// pipeline/neural_plugin.h.
class NeuralTextEncoder : public Encoder {
 public:
  struct Options {
    int batch_size = 128;  // texts per forward pass, after sorting by token count
  };

  // Loads a model folder that has a head; Error naming the missing or bad file otherwise.
  static NeuralTextEncoder load(const std::filesystem::path& dir, const Options& options);
  static bool exists(const std::filesystem::path& dir);  // all six files present
  // An untrained encoder of the given shape over the vocabulary in vocab_dir (vocab.txt,
  // tokenizer_config.json): speed measurements of shapes nobody has trained yet.
  static NeuralTextEncoder with_random_weights(const std::filesystem::path& vocab_dir,
                                               BertConfig bert, const TokenCnnHeadConfig& head,
                                               const Options& options);

  NeuralTextEncoder(NeuralTextEncoder&&) noexcept;
  NeuralTextEncoder& operator=(NeuralTextEncoder&&) noexcept;
  ~NeuralTextEncoder() override;

  std::string name() const override;  // e.g. "bert-L4-H128-cnn128"
  int dim() const override;
  const TokenCnnHeadConfig& head_config() const;
  // Texts are sorted by token count and batched so that padding stays small; runs under
  // torch::InferenceMode with the process-wide thread count (set once by the caller).
  void encode(std::span<const Listing> listings, float* out) const override;
  std::string input(const Listing& listing) const override;  // model_text(listing)
  void encode_texts(std::span<const std::string> texts, float* out) const;

 private:
  struct Impl;
  explicit NeuralTextEncoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace doppel
