// The image side of a workspace: training the neural image encoder (ViT-MAE, then optionally the
// contrastive stage) on the catalog's photos, and embedding every listing's image into the
// "image" vector space.
//
// Image references in the catalog are URLs or local paths (made absolute at ingest, see
// ingest_job.h); URLs are downloaded once into ws/cache/images.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "image/contrastive_trainer.h"
#include "image/mae_trainer.h"
#include "image/neural_image_encoder.h"
#include "image/vit_mae_config.h"
#include "pipeline/space_vectors.h"
#include "pipeline/workspace.h"

namespace doppel {

// How the workspace reads images: URLs cached in ws/cache/images, paths used as stored.
ImageFetcherOptions workspace_fetcher(const Workspace& ws);

// The distinct image references of the catalog's listings (in key order), followed by those of
// `extra`: image files, folders (searched recursively for .jpg/.jpeg/.png/.webp) or .txt files
// listing one reference per line. Error naming an extra path that does not exist.
std::vector<std::string> training_image_refs(const Workspace& ws,
                                             std::span<const std::string> extra);

// Product labels for `refs` (one per ref; -1 = unknown) from the catalog: listings joined by a
// labelled match outside the valid and test splits, or sharing one image, form a product; a ref
// gets that product's id when the product has at least two listings. Refs of no listing are -1.
std::vector<int> image_product_labels(const Workspace& ws, std::span<const std::string> refs);

// The two training stages below run in the neural plugin (pipeline/neural_plugin.h).

// MAE pretraining on training_image_refs(ws, extra) into ws/models/image (created as `new_model`
// with the input recipe `encoder` when the folder holds no model yet), then the PCA head.
MaeReport pretrain_image_model(Workspace& ws, const MaeOptions& options,
                               const ViTMAEConfig& new_model, const ImageEncoderConfig& encoder,
                               std::span<const std::string> extra, bool resume);

// The contrastive stage on the same images, with image_product_labels as positives (SimCLR on
// the photos alone when the catalog has no labelled matches). Error when no model is pretrained.
ContrastiveReport finetune_image_model(Workspace& ws, const ContrastiveOptions& options,
                                       std::span<const std::string> extra, bool resume);

// Loads ws/models/image, reading photos as `fetcher` says (workspace_fetcher(ws) when not given);
// Error telling the user to train it when missing.
std::unique_ptr<ImageEncoder> load_image_encoder(const Workspace& ws, int batch_size = 32,
                                                 std::optional<ImageFetcherOptions> fetcher = {});

struct ImageEmbedReport {
  size_t listings = 0;    // the catalog's (the target's shard of it)
  size_t up_to_date = 0;  // not encoded: the stored vector came from the same model and image
  size_t embedded = 0;    // encoded into a new image vector
  size_t without_image = 0;
  size_t unreadable = 0;  // an image that could not be fetched or decoded (warned about)
};

// Encodes the catalog's listings' images (those of target.shard, as `scope` says) with
// ws/models/image and stores the vectors in the space "image" (the encoder's name as the
// catalog's "image_encoder"), or hands them to target.keep. A listing without a readable image
// gets no image vector (a row it had is removed), keeps its text vector, and is counted; it is
// tried again by the next embed. A page of listings at a time (embed_in_pages): an interrupted
// run keeps what it stored.
ImageEmbedReport embed_images(Workspace& ws, EmbedScope scope = EmbedScope::kStale,
                              const EmbedTarget& target = {}, size_t batch_size = 256);

}  // namespace doppel
