#include "pipeline/text_jobs.h"

#include <spdlog/spdlog.h>

#include "pipeline/neural_plugin.h"
#include "pipeline/vector_sources.h"
#include "text/neural_text_encoder.h"
#include "util/error.h"
#include "util/progress.h"

namespace doppel {

void train_tfidf(Workspace& ws, const ClassicalTextEncoder::Options& options) {
  auto listings = ws.catalog().all_listings();
  if (listings.empty()) fail("{}: the catalog is empty; ingest listings first", ws.root().string());
  spdlog::info("fitting TF-IDF + PCA{} on {} listings", options.out_dim, listings.size());
  auto encoder = ClassicalTextEncoder::fit(listings, options);
  encoder.save(ws.tfidf_dir());
  spdlog::info("text encoder {} saved to {}", encoder.name(), ws.tfidf_dir().string());
}

ClassicalTextEncoder load_text_encoder(const Workspace& ws) {
  return ClassicalTextEncoder::load(text_encoder_dir(ws, TextEncoderChoice::kClassical));
}

TextEncoderChoice parse_text_encoder_choice(std::string_view name) {
  if (name == "auto") return TextEncoderChoice::kAuto;
  if (name == "tfidf") return TextEncoderChoice::kClassical;
  if (name == "bert") return TextEncoderChoice::kNeural;
  fail("unknown text encoder \"{}\" (auto, tfidf, bert)", name);
}

std::filesystem::path text_encoder_dir(const Workspace& ws, TextEncoderChoice choice) {
  const bool neural_ready = NeuralTextEncoder::exists(ws.text_model_dir());
  if (choice == TextEncoderChoice::kNeural && !neural_ready) {
    fail("{}: no fine-tuned neural text encoder; run `doppel train text {} --stage match` first",
         ws.text_model_dir().string(), ws.root().string());
  }
  if (choice == TextEncoderChoice::kClassical || !neural_ready) {
    if (!std::filesystem::exists(ws.tfidf_dir() / "config.json"))
      fail("{}: no text encoder; run `doppel train text {}` first", ws.tfidf_dir().string(),
           ws.root().string());
    return ws.tfidf_dir();
  }
  return ws.text_model_dir();
}

std::unique_ptr<Encoder> load_vector_encoder(const Workspace& ws, TextEncoderChoice choice) {
  const auto dir = text_encoder_dir(ws, choice);
  if (dir == ws.tfidf_dir())
    return std::make_unique<ClassicalTextEncoder>(ClassicalTextEncoder::load(dir));
  return neural_plugin().load_text_encoder(dir, {});
}

namespace {

// Encodes `listings` in batches of batch_size, advancing `progress` by each batch.
SpaceVectors encode_listings(const Encoder& encoder, const VectorSources& sources,
                             std::span<const Listing> listings, size_t batch_size,
                             Progress& progress) {
  SpaceVectors out;
  out.space = "text";
  out.encoder = encoder.name();
  out.dim = encoder.dim();
  out.keys.resize(listings.size());
  out.data.resize(listings.size() * out.dim);
  out.sources.resize(listings.size());
  for (size_t start = 0; start < listings.size(); start += batch_size) {
    const size_t n = std::min(batch_size, listings.size() - start);
    encoder.encode(listings.subspan(start, n), out.data.data() + start * out.dim);
    for (size_t i = start; i < start + n; ++i) {
      out.keys[i] = listings[i].key;
      out.sources[i] = sources.of(listings[i]);
    }
    progress.advance(n);
  }
  return out;
}

}  // namespace

TextEmbedReport embed_text(Workspace& ws, TextEncoderChoice choice, EmbedScope scope,
                           const EmbedTarget& target, size_t batch_size) {
  const auto encoder = load_vector_encoder(ws, choice);
  const VectorSources sources(*encoder, text_encoder_dir(ws, choice));
  const PagedEmbed paged =
      embed_in_pages(ws.catalog(), "text", sources, scope, target,
                     [&](std::span<const Listing> listings, Progress& progress) {
                       return encode_listings(*encoder, sources, listings, batch_size, progress);
                     });
  return {paged.listings, paged.listings - paged.up_to_date};
}

}  // namespace doppel
