// Training the classical text encoder on the catalog, and embedding every listing with it.
#pragma once

#include "pipeline/workspace.h"
#include "text/classical_encoder.h"

namespace doppel {

// Fits TF-IDF + PCA on every listing in the catalog and saves it to ws/models/tfidf/.
void train_tfidf(Workspace& ws, const ClassicalTextEncoder::Options& options);

// Loads the trained text encoder; Error telling the user to train it first when missing.
ClassicalTextEncoder load_text_encoder(const Workspace& ws);

// Encodes every listing and stores the vectors in catalog.db under the space "text".
// Returns the number of listings encoded.
size_t embed_text(Workspace& ws, size_t batch_size = 1024);

}  // namespace doppel
