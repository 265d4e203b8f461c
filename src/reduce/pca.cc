#include "reduce/pca.h"

#include <faiss/VectorTransform.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include <algorithm>
#include <string>

#include "util/binary_io.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {
namespace {

constexpr char kMagic[8] = {'D', 'P', 'L', 'P', 'C', 'A', '\0', '\0'};
constexpr size_t kHeaderSize = sizeof(kMagic) + 3 * sizeof(uint32_t);

}  // namespace

Pca::Pca(std::unique_ptr<faiss::PCAMatrix> pca) : pca_(std::move(pca)) {
  const size_t d_in = static_cast<size_t>(pca_->d_in), d_out = static_cast<size_t>(pca_->d_out);
  columns_.resize(d_in * d_out);
  for (size_t j = 0; j < d_out; ++j) {
    for (size_t k = 0; k < d_in; ++k) columns_[k * d_out + j] = pca_->A[j * d_in + k];
  }
}
Pca::Pca(Pca&&) noexcept = default;
Pca& Pca::operator=(Pca&&) noexcept = default;
Pca::~Pca() = default;

Pca Pca::fit(const float* x, size_t n, int d_in, int d_out) {
  if (d_in <= 0 || d_out <= 0 || d_out > d_in) {
    fail("PCA: need 0 < d_out <= d_in, got d_in={} d_out={}", d_in, d_out);
  }
  if (n < static_cast<size_t>(d_out)) {
    fail("PCA: {} training rows cannot give {} components (need at least d_out={} rows)", n, d_out,
         d_out);
  }
  auto pca = std::make_unique<faiss::PCAMatrix>(d_in, d_out, 0.0f, false);
  try {
    pca->train(static_cast<faiss::Index::idx_t>(n), x);
  } catch (const faiss::FaissException& e) {
    fail("PCA: training on {} rows of {} dims failed: {}", n, d_in, e.what());
  }
  return Pca(std::move(pca));
}

void Pca::apply(const float* x, size_t n, float* out) const {
  if (n == 0) return;
  pca_->apply_noalloc(static_cast<faiss::Index::idx_t>(n), x, out);
}

void Pca::apply_row(const float* x, float* out) const {
  const size_t d_in = static_cast<size_t>(pca_->d_in), d_out = static_cast<size_t>(pca_->d_out);
  if (pca_->have_bias) {
    std::copy_n(pca_->b.data(), d_out, out);
  } else {
    std::fill_n(out, d_out, 0.0f);
  }
  for (size_t k = 0; k < d_in; ++k) {
    if (x[k] == 0.0f) continue;
    const float* column = columns_.data() + k * d_out;
    for (size_t j = 0; j < d_out; ++j) out[j] += x[k] * column[j];
  }
}

int Pca::d_in() const { return pca_->d_in; }
int Pca::d_out() const { return pca_->d_out; }

std::vector<float> Pca::eigenvalues() const {
  std::vector<float> ev(
      pca_->eigenvalues.begin(),
      pca_->eigenvalues.begin() + std::min<size_t>(pca_->eigenvalues.size(), pca_->d_out));
  ev.resize(pca_->d_out, 0.0f);
  return ev;
}

void Pca::save(const std::filesystem::path& path) const {
  faiss::VectorIOWriter writer;
  faiss::write_VectorTransform(pca_.get(), &writer);
  std::string bytes(kMagic, sizeof(kMagic));
  append_pod<uint32_t>(bytes, kFormatVersion);
  append_pod<uint32_t>(bytes, static_cast<uint32_t>(pca_->d_in));
  append_pod<uint32_t>(bytes, static_cast<uint32_t>(pca_->d_out));
  append_bytes(bytes, writer.data.data(), writer.data.size());
  write_file_atomic(path, bytes);
}

Pca Pca::load(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  if (bytes.size() < kHeaderSize) {
    fail("{}: not a doppel PCA file: {} bytes, shorter than the {}-byte header", path.string(),
         bytes.size(), kHeaderSize);
  }
  BinaryReader in(path, bytes, "PCA file");
  in.expect_magic(std::string_view(kMagic, sizeof(kMagic)));
  const auto version = in.get<uint32_t>("format version");
  if (version != kFormatVersion) {
    fail("{}: PCA format version {}, this doppel reads {}", path.string(), version, kFormatVersion);
  }
  const auto d_in = in.get<uint32_t>("d_in");
  const auto d_out = in.get<uint32_t>("d_out");
  faiss::VectorIOReader reader;
  reader.data.assign(in.rest().begin(), in.rest().end());
  std::unique_ptr<faiss::VectorTransform> vt;
  try {
    vt.reset(faiss::read_VectorTransform(&reader));
  } catch (const std::exception& e) {  // FaissException, or bad_alloc on a garbled size
    fail("{}: PCA payload is truncated or corrupt ({} bytes after the header): {}", path.string(),
         reader.data.size(), e.what());
  }
  auto* pca = dynamic_cast<faiss::PCAMatrix*>(vt.get());
  if (pca == nullptr) {
    fail("{}: PCA payload holds a different FAISS transform", path.string());
  }
  if (static_cast<uint32_t>(pca->d_in) != d_in || static_cast<uint32_t>(pca->d_out) != d_out) {
    fail("{}: header says {}→{} dims but the payload is {}→{}", path.string(), d_in, d_out,
         pca->d_in, pca->d_out);
  }
  if (reader.rp != reader.data.size()) {
    fail("{}: {} unexpected bytes after the PCA payload", path.string(),
         reader.data.size() - reader.rp);
  }
  vt.release();
  return Pca(std::unique_ptr<faiss::PCAMatrix>(pca));
}

}  // namespace doppel
