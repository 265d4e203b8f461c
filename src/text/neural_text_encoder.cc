#include "text/neural_text_encoder.h"

#include <algorithm>
#include <functional>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "text/normalize.h"
#include "text/text_model.h"
#include "util/error.h"
#include "util/files.h"
#include "util/json_file.h"

namespace doppel {

void TokenCnnHeadConfig::validate(int num_hidden_layers) const {
  if (layers.empty()) fail("encoder head: layers is empty");
  std::set<int> seen;
  for (int layer : layers) {
    const int index = layer < 0 ? num_hidden_layers + 1 + layer : layer;
    if (index < 0 || index > num_hidden_layers) {
      fail("encoder head: layer {} does not exist in a {}-layer model", layer, num_hidden_layers);
    }
    if (!seen.insert(index).second) fail("encoder head: layer {} listed twice", layer);
  }
  if (bottleneck < 0) {
    fail("encoder head: bottleneck must be 0 (none) or positive, got {}", bottleneck);
  }
  if (channels <= 0) fail("encoder head: channels must be positive, got {}", channels);
  if (kernel_size <= 0 || kernel_size % 2 == 0) {
    fail("encoder head: kernel_size must be a positive odd number, got {}", kernel_size);
  }
  if (out_dim <= 0) fail("encoder head: out_dim must be positive, got {}", out_dim);
  if (max_length < 3) fail("encoder head: max_length must be at least 3, got {}", max_length);
}

void TokenCnnHeadConfig::save(const std::filesystem::path& encoder_json) const {
  nlohmann::json j = {{"format_version", kFormatVersion}, {"layers", layers},
                      {"bottleneck", bottleneck},         {"channels", channels},
                      {"kernel_size", kernel_size},       {"out_dim", out_dim},
                      {"max_length", max_length}};
  write_file_atomic(encoder_json, j.dump(2) + "\n");
}

TokenCnnHeadConfig TokenCnnHeadConfig::load(const std::filesystem::path& encoder_json) {
  const auto json = read_json_object(encoder_json);
  const JsonFields fields(json, encoder_json);
  const int version = fields.expect_format_version(kOldestFormatVersion, kFormatVersion);
  TokenCnnHeadConfig c;
  fields.read("layers", true, c.layers);
  c.bottleneck = 0;  // version 1 heads had none
  fields.read("bottleneck", version >= 2, c.bottleneck);
  fields.read("channels", true, c.channels);
  fields.read("kernel_size", true, c.kernel_size);
  fields.read("out_dim", true, c.out_dim);
  fields.read("max_length", true, c.max_length);
  return c;
}

TokenCnnHeadConfig default_head_for(const BertConfig& bert) {
  TokenCnnHeadConfig head;
  head.layers.clear();
  for (int layer = -std::min(4, bert.num_hidden_layers); layer <= -1; ++layer) head.layers.push_back(layer);
  head.max_length = std::min(head.max_length, bert.max_position_embeddings);
  return head;
}

std::string model_text(const Listing& listing) {
  std::string text = listing.title;
  const std::string title = normalize_text(listing.title);
  for (const std::string* extra : {&listing.brand, &listing.model_number}) {
    if (extra->empty()) continue;
    const std::string normalized = normalize_text(*extra);
    if (!normalized.empty() && title.find(normalized) == std::string::npos) {
      text += ' ';
      text += *extra;
    }
  }
  return text;
}

struct NeuralTextEncoder::Impl {
  TextModel model;
  Options options;
};

NeuralTextEncoder::NeuralTextEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NeuralTextEncoder::NeuralTextEncoder(NeuralTextEncoder&&) noexcept = default;
NeuralTextEncoder& NeuralTextEncoder::operator=(NeuralTextEncoder&&) noexcept = default;
NeuralTextEncoder::~NeuralTextEncoder() = default;

NeuralTextEncoder NeuralTextEncoder::load(const std::filesystem::path& dir, const Options& options) {
  if (options.batch_size <= 0) fail("text encoder: batch_size must be positive, got {}", options.batch_size);
  auto model = TextModel::load(dir, /*require_head=*/true);
  model.train(false);
  return NeuralTextEncoder(std::make_unique<Impl>(Impl{std::move(model), options}));
}

NeuralTextEncoder NeuralTextEncoder::with_random_weights(const std::filesystem::path& vocab_dir,
                                                         BertConfig bert, const TokenCnnHeadConfig& head,
                                                         const Options& options) {
  Vocabulary vocab = Vocabulary::load(vocab_dir / "vocab.txt");
  bert.vocab_size = vocab.size();
  bert.pad_token_id = vocab.pad_id();
  TextModel model(bert, head, WordPieceTokenizer(std::move(vocab), load_tokenizer_config(vocab_dir)));
  model.train(false);
  return NeuralTextEncoder(std::make_unique<Impl>(Impl{std::move(model), options}));
}

bool NeuralTextEncoder::exists(const std::filesystem::path& dir) { return TextModel::has_head(dir); }

std::string NeuralTextEncoder::name() const {
  const auto& b = impl_->model.bert_config();
  return fmt::format("bert-L{}-H{}-cnn{}", b.num_hidden_layers, b.hidden_size,
                     impl_->model.head_config().out_dim);
}

int NeuralTextEncoder::dim() const { return impl_->model.head_config().out_dim; }

const TokenCnnHeadConfig& NeuralTextEncoder::head_config() const {
  return impl_->model.head_config();
}

namespace {

// Tokenizes text(0..n-1) on torch's intra-op threads (the texts are independent; at 2,000+
// titles/s tokenizing on one thread would idle the others), then embeds all of them into out.
void embed_texts(TextModel& model, int batch_size, size_t n,
                 const std::function<std::string(size_t)>& text, float* out) {
  // Texts with no word pieces ("!!!") have nothing to encode: a zero row, as Encoder promises.
  std::vector<std::vector<int32_t>> tokens(n);
  at::parallel_for(0, static_cast<int64_t>(n), 64, [&](int64_t begin, int64_t end) {
    for (auto i = static_cast<size_t>(begin); i < static_cast<size_t>(end); ++i) {
      tokens[i] = model.tokenize(text(i));
      if (tokens[i].size() <= 2) tokens[i].clear();
    }
  });
  auto vectors = model.embed_all(tokens, batch_size).contiguous();
  std::copy_n(vectors.data_ptr<float>(), vectors.numel(), out);
}

}  // namespace

void NeuralTextEncoder::encode(std::span<const Listing> listings, float* out) const {
  embed_texts(impl_->model, impl_->options.batch_size, listings.size(),
              [&](size_t i) { return model_text(listings[i]); }, out);
}

std::string NeuralTextEncoder::input(const Listing& listing) const { return model_text(listing); }

void NeuralTextEncoder::encode_texts(std::span<const std::string> texts, float* out) const {
  embed_texts(impl_->model, impl_->options.batch_size, texts.size(),
              [&](size_t i) { return texts[i]; }, out);
}

}  // namespace doppel
