#include "text/neural_text_encoder.h"

#include <algorithm>
#include <functional>

#include <fmt/format.h>

#include "text/text_model.h"
#include "util/error.h"

namespace doppel {

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
