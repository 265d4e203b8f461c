// Pca — principal component analysis from d_in to d_out dimensions, trained once and applied to
// n×d row-major float batches. A thin owner of a faiss::PCAMatrix (no whitening, no rotation):
// FAISS does the linear algebra, this class adds argument checks and a versioned file format.
//
// File format (little-endian):
//   8 bytes  magic "DPLPCA\0\0"
//   u32      format version (1)
//   u32      d_in
//   u32      d_out
//   rest     faiss::write_VectorTransform bytes of the PCAMatrix
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

namespace faiss {
struct PCAMatrix;
}

namespace doppel {

class Pca {
 public:
  static constexpr uint32_t kFormatVersion = 1;

  // Learns the mean and the top d_out principal directions of n rows of x (n×d_in).
  // Throws doppel::Error unless 0 < d_out <= d_in and n >= d_out (FAISS 1.7.3 cannot produce
  // more components than it has training rows). FAISS samples at most 1000·d_in rows.
  static Pca fit(const float* x, size_t n, int d_in, int d_out);

  // out receives n rows of d_out floats: (x - mean) projected on the components. Not normalised.
  // One BLAS product: BLAS picks its kernels and its split across threads by n, so the last bits
  // of a row depend on how many rows come with it.
  void apply(const float* x, size_t n, float* out) const;
  // The same projection of one row, whose bytes depend on that row alone: the components' columns
  // of x's nonzero entries are accumulated in index order, without BLAS. Costs d_out multiply-adds
  // per nonzero entry, so it is the faster one for sparse rows such as folded TF-IDF vectors.
  void apply_row(const float* x, float* out) const;

  int d_in() const;
  int d_out() const;
  // Variance along each output component (descending), d_out values.
  std::vector<float> eigenvalues() const;

  // Writes atomically; load throws doppel::Error naming the path on a bad magic, an unknown
  // version, a truncated file or dimensions that disagree with the FAISS payload.
  void save(const std::filesystem::path& path) const;
  static Pca load(const std::filesystem::path& path);

  Pca(Pca&&) noexcept;
  Pca& operator=(Pca&&) noexcept;
  ~Pca();

 private:
  explicit Pca(std::unique_ptr<faiss::PCAMatrix> pca);
  std::unique_ptr<faiss::PCAMatrix> pca_;
  std::vector<float> columns_;  // the projection matrix transposed, d_in rows of d_out (apply_row)
};

}  // namespace doppel
