// Training the classical text encoder on the catalog, and embedding every listing with the
// workspace's text encoder (the neural one when trained, else the classical one).
#pragma once

#include <memory>

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

// The chosen encoder; Error telling the user what to train when it is missing.
std::unique_ptr<Encoder> load_vector_encoder(const Workspace& ws, TextEncoderChoice choice);

// Encodes `listings` with the chosen encoder into the space "text", without storing them.
SpaceVectors encode_text(const Workspace& ws, std::span<const Listing> listings,
                         TextEncoderChoice choice = TextEncoderChoice::kAuto,
                         size_t batch_size = 1024);

// Encodes every listing and stores the vectors in catalog.db under the space "text", and the
// encoder's name as the catalog's "text_encoder". Returns the number of listings encoded.
size_t embed_text(Workspace& ws, TextEncoderChoice choice = TextEncoderChoice::kAuto,
                  size_t batch_size = 1024);

}  // namespace doppel
