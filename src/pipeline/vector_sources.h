// VectorSources — what a stored vector was encoded from, as one digest: the encoder's model files
// and what the encoder reads of the listing (Encoder::input). catalog.db keeps the digest beside
// each vector (`vectors.source`), so `doppel embed` encodes only the listings whose digest
// changed: after a few upserts it encodes those few, after a retrained encoder every listing, and
// after a price change none (no encoder reads the price).
//
// A digest is never 0, which catalog.db reads as "unknown" (a vector stored without one).
#pragma once

#include <cstdint>
#include <filesystem>
#include <unordered_map>
#include <vector>

#include "catalog/encoder.h"
#include "catalog/listing.h"

namespace doppel {

class VectorSources {
 public:
  // The digests of `encoder`'s vectors (it must outlive this): the names and bytes of the regular
  // files directly in its model folder, then its input of each listing. For an image encoder
  // (`image_files`) a local image's size and modification time are added, standing for its
  // bytes; a URL is read once into the workspace's cache, so the URL stands for its bytes.
  VectorSources(const Encoder& encoder, const std::filesystem::path& model_dir,
                bool image_files = false);

  uint64_t of(const Listing& listing) const;

  // Keeps, in their order, the listings whose digest differs from `stored` (a space's digests by
  // key, CatalogStore::vector_sources): those without a vector or with a stale one.
  void keep_stale(std::vector<Listing>& listings,
                  const std::unordered_map<int64_t, uint64_t>& stored) const;

 private:
  const Encoder* encoder_;
  uint64_t model_;  // digest of the model folder
  bool image_files_;
};

}  // namespace doppel
