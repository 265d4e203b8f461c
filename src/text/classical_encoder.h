// ClassicalTextEncoder — the no-neural-network text encoder: HashedTfidf sparse vectors folded
// into a dense fold_dim vector (bucket % fold_dim, values summed), projected by PCA to out_dim,
// then L2-normalised. A baseline that needs no training data beyond the catalog itself, and the
// owner of the TF-IDF model that the decider's pair features reuse (tfidf()).
//
// Model folder (save/load):
//   dir/config.json  {"name", "format_version", "dim", "hash_bits", "fold_dim", "out_dim",
//                     "max_fit_samples", "seed", "word_weight", "char_weight"}
//   dir/tfidf.bin    HashedTfidf file (text/tfidf.h)
//   dir/pca.bin      Pca file (reduce/pca.h), fold_dim -> out_dim
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>

#include "catalog/encoder.h"
#include "catalog/listing.h"
#include "reduce/pca.h"
#include "text/tfidf.h"

namespace doppel {

class ClassicalTextEncoder : public Encoder {
 public:
  static constexpr int kFormatVersion = 1;

  struct Options {
    int hash_bits = 20;               // HashedTfidf buckets: 2^hash_bits
    int fold_dim = 2048;              // dense width the sparse vectors are folded into
    int out_dim = 128;                // PCA output = dim(); at most fold_dim
    size_t max_fit_samples = 100000;  // PCA is fitted on a seeded sample of at most this many
    uint64_t seed = 42;               // sample seed: same catalog + seed -> same model
    float word_weight = 1.0f;         // HashedTfidf family weights
    float char_weight = 1.0f;
    void validate() const;  // Error naming the field and value
  };

  // Fits TF-IDF on listing_text() of every listing, then PCA on the folded vectors of a seeded
  // sample (listings with no tokens are left out of the sample). Error when the sample has fewer
  // than out_dim listings: PCA cannot produce more components than rows; lower out_dim or give
  // more listings (no zero-padding, so that dim() always means out_dim informative components).
  static ClassicalTextEncoder fit(std::span<const Listing> listings, const Options& options);

  std::string name() const override;  // "tfidf-pca<out_dim>"
  int dim() const override { return options_.out_dim; }
  // A listing's row, bit for bit, depends on that listing alone, never on the others encoded with
  // it; the rows are shared among OpenMP's threads. A listing without tokens gets a row of zeros.
  void encode(std::span<const Listing> listings, float* out) const override;
  std::string input(const Listing& listing) const override;  // listing_text(listing)
  // The rows encode() gives the listings whose TF-IDF vectors, tfidf().transform(listing_text()),
  // these are: for a caller that has them already and need not transform the text again.
  void encode_tfidf(std::span<const SparseVector* const> vectors, float* out) const;

  const HashedTfidf& tfidf() const { return tfidf_; }
  const Options& options() const { return options_; }

  // save creates dir if needed; load throws doppel::Error naming the file on a missing or bad
  // file, or when the three files disagree (bits, dims).
  void save(const std::filesystem::path& dir) const;
  static ClassicalTextEncoder load(const std::filesystem::path& dir);

 private:
  ClassicalTextEncoder(Options options, HashedTfidf tfidf, Pca pca);
  // Rows 0..count-1 of out, each alone, on OpenMP's threads: fold_row(i, row) adds row i's folded
  // TF-IDF vector to a zeroed fold_dim row and says whether it had any token (it is called from
  // several threads at once); PCA then projects that row.
  void project(size_t count, float* out, const std::function<bool(size_t, float*)>& fold_row) const;

  Options options_;
  HashedTfidf tfidf_;
  Pca pca_;
};

}  // namespace doppel
