#include "server/synthetic_image_vectors.h"

#include <cmath>
#include <random>
#include <unordered_set>

#include "image/neural_image_encoder.h"
#include "pipeline/image_jobs.h"
#include "util/error.h"
#include "util/progress.h"

namespace doppel {
namespace {

// The encoder's vectors of the readable photos, row after row.
std::vector<float> embed_pool(const ImageEncoder& encoder, std::span<const std::string> photos) {
  std::vector<Listing> listings(photos.size());
  for (size_t i = 0; i < photos.size(); ++i) listings[i].image = photos[i];
  const int dim = encoder.dim();
  std::vector<float> all(listings.size() * dim), pool;
  encoder.encode(listings, all.data());
  for (size_t i = 0; i < listings.size(); ++i) {
    const auto row = std::span(all).subspan(i * dim, dim);
    if (!is_missing_image(row)) pool.insert(pool.end(), row.begin(), row.end());
  }
  return pool;
}

}  // namespace

SyntheticImageReport fill_synthetic_image_vectors(Workspace& ws,
                                                  std::span<const std::string> photos,
                                                  const SyntheticImageOptions& options) {
  const auto encoder = load_image_encoder(ws);
  const int dim = encoder->dim();
  const auto pool = embed_pool(*encoder, photos);
  SyntheticImageReport report;
  report.pool = pool.size() / dim;
  if (report.pool == 0) fail("none of the {} pool photos could be read", photos.size());

  const auto existing = ws.catalog().vectors("image");
  const std::unordered_set<int64_t> has_vector(existing.keys.begin(), existing.keys.end());
  report.kept = has_vector.size();
  std::mt19937 rng(options.seed);
  std::normal_distribution<float> noise(0.0f, options.noise / std::sqrt(static_cast<float>(dim)));
  std::vector<int64_t> keys;
  std::vector<float> vectors;
  const auto flush = [&] {
    ws.catalog().put_vectors("image", keys, vectors.data(), dim);
    report.written += keys.size();
    keys.clear();
    vectors.clear();
  };
  const auto listings = ws.catalog().all_listings();
  Progress progress("synthetic image vectors", listings.size());
  for (const auto& listing : listings) {
    progress.advance(1);
    if (has_vector.count(listing.key)) continue;
    const float* base = pool.data() + (static_cast<size_t>(listing.key) % report.pool) * dim;
    float norm = 0;
    const size_t at = vectors.size();
    for (int d = 0; d < dim; ++d) {
      vectors.push_back(base[d] + noise(rng));
      norm += vectors.back() * vectors.back();
    }
    for (int d = 0; d < dim; ++d) vectors[at + d] /= std::sqrt(norm);
    keys.push_back(listing.key);
    if (keys.size() == options.batch) flush();
  }
  flush();
  progress.finish();
  ws.catalog().set_meta("image_encoder", encoder->name());
  return report;
}

}  // namespace doppel
