// Training the classical text encoder on the catalog, and embedding every listing with the
// workspace's text encoder (the neural one when trained, else the classical one).
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "pipeline/space_vectors.h"
#include "pipeline/workspace.h"
#include "text/classical_encoder.h"

namespace doppel {

// Fits TF-IDF + PCA on every listing in the catalog and saves it to ws/models/tfidf/.
void train_tfidf(Workspace& ws, const ClassicalTextEncoder::Options& options);

// Loads the trained text encoder; Error telling the user to train it first when missing.
ClassicalTextEncoder load_text_encoder(const Workspace& ws);

// Which encoder fills the "text" vector space. kAuto: the neural encoder when ws/models/text has a
// fine-tuned head, else the classical one.
enum class TextEncoderChoice { kAuto, kClassical, kNeural };
TextEncoderChoice parse_text_encoder_choice(std::string_view name);  // auto, tfidf, bert

// The model folder of the encoder `choice` resolves to: ws/models/text for the neural one,
// ws/models/tfidf for the classical one. Error telling the user what to train when it is missing.
std::filesystem::path text_encoder_dir(const Workspace& ws, TextEncoderChoice choice);

// The chosen encoder, loaded from text_encoder_dir(ws, choice).
std::unique_ptr<Encoder> load_vector_encoder(const Workspace& ws, TextEncoderChoice choice);

struct TextEmbedReport {
  size_t listings = 0;  // in the catalog (the target's shard of it)
  size_t encoded = 0;   // the others' stored vectors were up to date
};

// Encodes the catalog's listings (those of target.shard, as `scope` says) and stores their
// vectors in catalog.db under the space "text", with the encoder's name as the catalog's
// "text_encoder" (or hands them to target.keep), a page of listings at a time (embed_in_pages):
// an interrupted run keeps what it stored, the next encodes the rest.
TextEmbedReport embed_text(Workspace& ws, TextEncoderChoice choice = TextEncoderChoice::kAuto,
                           EmbedScope scope = EmbedScope::kStale, const EmbedTarget& target = {},
                           size_t batch_size = 1024);

}  // namespace doppel
