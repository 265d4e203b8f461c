#include "pipeline/text_jobs.h"

#include <spdlog/spdlog.h>

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
  if (!std::filesystem::exists(ws.tfidf_dir() / "config.json"))
    fail("{}: no text encoder; run `doppel train text {}` first", ws.tfidf_dir().string(),
         ws.root().string());
  return ClassicalTextEncoder::load(ws.tfidf_dir());
}

TextEncoderChoice parse_text_encoder_choice(std::string_view name) {
  if (name == "auto") return TextEncoderChoice::kAuto;
  if (name == "tfidf") return TextEncoderChoice::kClassical;
  if (name == "bert") return TextEncoderChoice::kNeural;
  fail("unknown text encoder \"{}\" (auto, tfidf, bert)", name);
}

std::unique_ptr<Encoder> load_vector_encoder(const Workspace& ws, TextEncoderChoice choice) {
  const bool neural_ready = NeuralTextEncoder::exists(ws.text_model_dir());
  if (choice == TextEncoderChoice::kNeural && !neural_ready) {
    fail("{}: no fine-tuned neural text encoder; run `doppel train text {} --stage match` first",
         ws.text_model_dir().string(), ws.root().string());
  }
  if (choice == TextEncoderChoice::kClassical || !neural_ready) {
    return std::make_unique<ClassicalTextEncoder>(load_text_encoder(ws));
  }
  return std::make_unique<NeuralTextEncoder>(NeuralTextEncoder::load(ws.text_model_dir(), {}));
}

SpaceVectors encode_text(const Workspace& ws, std::span<const Listing> listings,
                         TextEncoderChoice choice, size_t batch_size) {
  const auto encoder = load_vector_encoder(ws, choice);
  SpaceVectors out;
  out.space = "text";
  out.encoder = encoder->name();
  out.dim = encoder->dim();
  out.keys.resize(listings.size());
  out.data.resize(listings.size() * out.dim);
  Progress progress("embed text", listings.size());
  for (size_t start = 0; start < listings.size(); start += batch_size) {
    const size_t n = std::min(batch_size, listings.size() - start);
    encoder->encode(listings.subspan(start, n), out.data.data() + start * out.dim);
    for (size_t i = 0; i < n; ++i) out.keys[start + i] = listings[start + i].key;
    progress.advance(n);
  }
  progress.finish();
  return out;
}

size_t embed_text(Workspace& ws, TextEncoderChoice choice, size_t batch_size) {
  const auto listings = ws.catalog().all_listings();
  encode_text(ws, listings, choice, batch_size).store(ws.catalog());
  return listings.size();
}

}  // namespace doppel
