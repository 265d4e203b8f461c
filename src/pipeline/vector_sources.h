// VectorSources — what a stored vector was encoded from, as one digest: the encoder's model files
// and the listing's fields that encoder reads. catalog.db keeps the digest beside each vector
// (`vectors.source`), so `doppel embed` encodes only the listings whose digest changed: after a
// few upserts it encodes those few, after a retrained encoder every listing.
//
// A digest is never 0, which catalog.db reads as "unknown" (a vector stored without one).
#pragma once

#include <cstdint>
#include <filesystem>
#include <unordered_map>
#include <vector>

#include "catalog/listing.h"

namespace doppel {

class VectorSources {
 public:
  // The digest of a text encoder's vectors: the names and bytes of the regular files directly in
  // its model folder, and each listing's title, description, brand, category, model number and
  // price (any field a text encoder may read, so a change of either means a new vector).
  static VectorSources for_text(const std::filesystem::path& model_dir);
  // The digest of an image encoder's vectors: its model folder as above, and each listing's image
  // reference with, for a local file, its size and modification time (a URL is read once into the
  // workspace's cache, so the URL stands for its bytes).
  static VectorSources for_image(const std::filesystem::path& model_dir);

  uint64_t of(const Listing& listing) const;

  // Keeps, in their order, the listings whose digest differs from `stored` (a space's digests by
  // key, CatalogStore::vector_sources): those without a vector or with a stale one.
  void keep_stale(std::vector<Listing>& listings,
                  const std::unordered_map<int64_t, uint64_t>& stored) const;

 private:
  enum class Space { kText, kImage };
  VectorSources(Space space, uint64_t model) : space_(space), model_(model) {}
  Space space_;
  uint64_t model_;  // digest of the model folder
};

}  // namespace doppel
