// Encoder — turns listings into fixed-size, L2-normalised vectors. The classical TF-IDF
// representation, the BERT text encoder and the ViT-MAE image encoder all implement it, so the
// pipeline never knows which one it holds.
#pragma once

#include <span>
#include <string>

#include "catalog/listing.h"

namespace doppel {

class Encoder {
 public:
  virtual ~Encoder() = default;

  // Short stable name recorded next to the vectors it produced, e.g. "tfidf-pca128".
  virtual std::string name() const = 0;
  virtual int dim() const = 0;

  // Encodes a batch: out receives listings.size() rows of dim() floats, each row L2-normalised
  // (a row of zeros where a listing has nothing to encode).
  virtual void encode(std::span<const Listing> listings, float* out) const = 0;

  // What of a listing encode() reads, as one string: listings with the same input get the same
  // vector from this encoder (an image encoder's input is the image reference; the image behind
  // it is the caller's to check). `doppel embed` re-encodes a listing only when it changes.
  virtual std::string input(const Listing& listing) const = 0;
};

}  // namespace doppel
