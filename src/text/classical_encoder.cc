#include "text/classical_encoder.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <vector>

#include "text/normalize.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {
namespace {

// Rows per OpenMP work item in project(); fewer rows than this are encoded on the calling thread.
constexpr int64_t kParallelRows = 64;

HashedTfidf::Options tfidf_options(const ClassicalTextEncoder::Options& o) {
  HashedTfidf::Options t;
  t.bits = o.hash_bits;
  t.word_weight = o.word_weight;
  t.char_weight = o.char_weight;
  return t;
}

// Adds a TF-IDF vector, folded to fold_dim, to row; false when it is empty (a text without tokens).
bool fold_into(const SparseVector& v, int fold_dim, float* row) {
  for (size_t i = 0; i < v.index.size(); ++i) {
    row[v.index[i] % static_cast<uint32_t>(fold_dim)] += v.value[i];
  }
  return !v.index.empty();
}

void l2_normalise(float* row, int d) {
  double n2 = 0;
  for (int j = 0; j < d; ++j) n2 += double(row[j]) * row[j];
  if (n2 == 0) return;
  const float inv = static_cast<float>(1.0 / std::sqrt(n2));
  for (int j = 0; j < d; ++j) row[j] *= inv;
}

}  // namespace

void ClassicalTextEncoder::Options::validate() const {
  tfidf_options(*this).validate();
  if (fold_dim <= 0) fail("text encoder option fold_dim must be positive, got {}", fold_dim);
  if (out_dim <= 0 || out_dim > fold_dim) {
    fail("text encoder option out_dim must be in 1..fold_dim={}, got {}", fold_dim, out_dim);
  }
  if (max_fit_samples < static_cast<size_t>(out_dim)) {
    fail("text encoder option max_fit_samples={} is below out_dim={}", max_fit_samples, out_dim);
  }
}

ClassicalTextEncoder::ClassicalTextEncoder(Options options, HashedTfidf tfidf, Pca pca)
    : options_(options), tfidf_(std::move(tfidf)), pca_(std::move(pca)) {}

ClassicalTextEncoder ClassicalTextEncoder::fit(std::span<const Listing> listings,
                                               const Options& options) {
  options.validate();
  std::vector<std::string> texts;
  texts.reserve(listings.size());
  for (const Listing& l : listings) texts.push_back(listing_text(l));
  HashedTfidf tfidf(tfidf_options(options));
  tfidf.fit(texts);

  // A seeded random sample: same catalog order + seed -> same PCA.
  std::vector<size_t> order(texts.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(options.seed);
  std::shuffle(order.begin(), order.end(), rng);

  const size_t fold = static_cast<size_t>(options.fold_dim);
  std::vector<float> dense;
  size_t rows = 0;
  for (size_t pos : order) {
    if (rows == options.max_fit_samples) break;
    dense.resize((rows + 1) * fold, 0.0f);
    float* row = dense.data() + rows * fold;
    if (fold_into(tfidf.transform(texts[pos]), options.fold_dim, row)) ++rows;
  }
  dense.resize(rows * fold);
  if (rows < static_cast<size_t>(options.out_dim)) {
    fail(
        "text encoder tfidf-pca{}: only {} of {} listings have text, PCA needs at least "
        "out_dim={}; lower out_dim or fit on a larger catalog",
        options.out_dim, rows, listings.size(), options.out_dim);
  }
  Pca pca = Pca::fit(dense.data(), rows, options.fold_dim, options.out_dim);
  return ClassicalTextEncoder(options, std::move(tfidf), std::move(pca));
}

std::string ClassicalTextEncoder::name() const {
  return "tfidf-pca" + std::to_string(options_.out_dim);
}

void ClassicalTextEncoder::encode(std::span<const Listing> listings, float* out) const {
  project(listings.size(), out, [&](size_t i, float* row) {
    return fold_into(tfidf_.transform(listing_text(listings[i])), options_.fold_dim, row);
  });
}

std::string ClassicalTextEncoder::input(const Listing& listing) const {
  return listing_text(listing);
}

void ClassicalTextEncoder::encode_tfidf(std::span<const SparseVector* const> vectors,
                                        float* out) const {
  project(vectors.size(), out,
          [&](size_t i, float* row) { return fold_into(*vectors[i], options_.fold_dim, row); });
}

// Row by row (Pca::apply_row): a listing's vector must not depend on the listings encoded with it,
// or re-embedding a catalog after adding one listing would move other vectors' bytes, and the
// index update rewrites every vector whose bytes moved. Rows are independent, so OpenMP's threads
// share them; a single listing (an online match) stays on the calling thread.
void ClassicalTextEncoder::project(size_t count, float* out,
                                   const std::function<bool(size_t, float*)>& fold_row) const {
  const int d = options_.out_dim;
  const auto rows = static_cast<int64_t>(count);
  std::exception_ptr error;
#pragma omp parallel if (rows >= kParallelRows)
  {
    std::vector<float> dense(static_cast<size_t>(options_.fold_dim));
#pragma omp for schedule(dynamic, kParallelRows)
    for (int64_t i = 0; i < rows; ++i) {
      try {
        std::fill(dense.begin(), dense.end(), 0.0f);
        float* row = out + i * d;
        if (fold_row(static_cast<size_t>(i), dense.data())) {
          pca_.apply_row(dense.data(), row);
          l2_normalise(row, d);
        } else {
          std::fill(row, row + d, 0.0f);
        }
      } catch (...) {
#pragma omp critical(classical_encoder_error)
        if (!error) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

void ClassicalTextEncoder::save(const std::filesystem::path& dir) const {
  std::filesystem::create_directories(dir);
  tfidf_.save(dir / "tfidf.bin");
  pca_.save(dir / "pca.bin");
  const nlohmann::json config = {
      {"name", name()},
      {"format_version", kFormatVersion},
      {"dim", dim()},
      {"hash_bits", options_.hash_bits},
      {"fold_dim", options_.fold_dim},
      {"out_dim", options_.out_dim},
      {"max_fit_samples", options_.max_fit_samples},
      {"seed", options_.seed},
      {"word_weight", options_.word_weight},
      {"char_weight", options_.char_weight},
  };
  write_file_atomic(dir / "config.json", config.dump(2) + "\n");
}

ClassicalTextEncoder ClassicalTextEncoder::load(const std::filesystem::path& dir) {
  const auto config_path = dir / "config.json";
  const std::string where = config_path.string();
  Options options;
  try {
    const auto config = nlohmann::json::parse(read_file(config_path));
    const int version = config.at("format_version").get<int>();
    if (version != kFormatVersion) {
      fail("{}: text encoder format version {}, this doppel reads {}", where, version,
           kFormatVersion);
    }
    options.hash_bits = config.at("hash_bits").get<int>();
    options.fold_dim = config.at("fold_dim").get<int>();
    options.out_dim = config.at("out_dim").get<int>();
    options.max_fit_samples = config.at("max_fit_samples").get<size_t>();
    options.seed = config.at("seed").get<uint64_t>();
    options.word_weight = config.at("word_weight").get<float>();
    options.char_weight = config.at("char_weight").get<float>();
  } catch (const nlohmann::json::exception& e) {
    fail("{}: bad text encoder config: {}", where, e.what());
  }
  try {
    options.validate();
  } catch (const Error& e) {
    fail("{}: {}", where, e.what());
  }
  HashedTfidf tfidf = HashedTfidf::load(dir / "tfidf.bin");
  Pca pca = Pca::load(dir / "pca.bin");
  const auto& t = tfidf.options();
  if (t.bits != options.hash_bits || t.word_weight != options.word_weight ||
      t.char_weight != options.char_weight) {
    fail(
        "{}: tfidf.bin (bits {}, weights {}/{}) disagrees with config.json (bits {}, weights "
        "{}/{})",
        dir.string(), t.bits, t.word_weight, t.char_weight, options.hash_bits, options.word_weight,
        options.char_weight);
  }
  if (pca.d_in() != options.fold_dim || pca.d_out() != options.out_dim) {
    fail("{}: pca.bin maps {}→{} dims but config.json says fold_dim {} out_dim {}", dir.string(),
         pca.d_in(), pca.d_out(), options.fold_dim, options.out_dim);
  }
  return ClassicalTextEncoder(options, std::move(tfidf), std::move(pca));
}

}  // namespace doppel
