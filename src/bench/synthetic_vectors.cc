#include "bench/synthetic_vectors.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <unordered_set>

#include "util/error.h"

namespace doppel {
namespace {

constexpr size_t kChunkRows = 4096;  // rows per RNG stream: fixes the output for any thread count
constexpr size_t kChunksPerPass = 64;

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// xoshiro256** seeded from (seed, stream) through splitmix64; normals by Marsaglia's polar method.
class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream) {
    uint64_t state = seed ^ (0xD1B54A32D192ED03ull * (stream + 1));
    for (auto& word : s_) word = splitmix64(state);
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  float normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = static_cast<float>(v * f);
    has_spare_ = true;
    return static_cast<float>(u * f);
  }
  size_t below(size_t n) { return static_cast<size_t>(uniform() * static_cast<double>(n)); }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
  float spare_ = 0.0f;
  bool has_spare_ = false;
};

// RNG stream numbers, kept apart so that changing one part of the data leaves the others.
constexpr uint64_t kStreamModel = 0;
constexpr uint64_t kStreamQueryRows = 1;
constexpr uint64_t kStreamQuery = 1ull << 40;  // + query number
constexpr uint64_t kStreamChunk = 1ull << 41;  // + chunk number

float normalize(float* x, int dim) {
  double norm2 = 0.0;
  for (int j = 0; j < dim; ++j) norm2 += static_cast<double>(x[j]) * x[j];
  const float norm = static_cast<float>(std::sqrt(norm2));
  if (norm > 0.0f) {
    const float inv = 1.0f / norm;
    for (int j = 0; j < dim; ++j) x[j] *= inv;
  }
  return norm;
}

// A random orthogonal d×d matrix (Gram-Schmidt on Gaussian rows, twice for stability).
std::vector<float> random_rotation(int d, Rng& rng) {
  std::vector<double> q(static_cast<size_t>(d) * d);
  for (auto& v : q) v = rng.normal();
  for (int i = 0; i < d; ++i) {
    double* row = &q[static_cast<size_t>(i) * d];
    for (int pass = 0; pass < 2; ++pass) {
      for (int p = 0; p < i; ++p) {
        const double* prev = &q[static_cast<size_t>(p) * d];
        double dot = 0.0;
        for (int j = 0; j < d; ++j) dot += row[j] * prev[j];
        for (int j = 0; j < d; ++j) row[j] -= dot * prev[j];
      }
    }
    double norm = 0.0;
    for (int j = 0; j < d; ++j) norm += row[j] * row[j];
    norm = std::sqrt(norm);
    for (int j = 0; j < d; ++j) row[j] /= norm;
  }
  return {q.begin(), q.end()};
}

void check_cos_range(const char* what, float lo, float hi) {
  if (!(lo > 0.0f && hi < 1.0f && lo <= hi)) {
    fail("synthetic vectors: {} range [{}, {}] must satisfy 0 < min <= max < 1", what, lo, hi);
  }
}

}  // namespace

void SyntheticVectorOptions::validate() const {
  if (n == 0) fail("synthetic vectors: n must be positive");
  if (dim < 2) fail("synthetic vectors: dim must be at least 2, got {}", dim);
  if (queries > n)
    fail("synthetic vectors: {} queries need as many base rows, n is {}", queries, n);
  if (vectors_per_cluster == 0) fail("synthetic vectors: vectors_per_cluster must be positive");
  check_cos_range("intra-cluster cosine", min_cluster_cos, max_cluster_cos);
  check_cos_range("duplicate cosine", min_duplicate_cos, max_duplicate_cos);
}

VectorDataset make_synthetic_vectors(const SyntheticVectorOptions& options) {
  options.validate();
  const int d = options.dim;
  const size_t du = static_cast<size_t>(d);
  const size_t n = options.n;
  Rng rng(options.seed, kStreamModel);

  // Noise model: e = R · diag(sqrt(lambda)) · z with sum(lambda) = 1, so E|e|^2 = 1. Stored as
  // the d×d matrix M = R·diag(sqrt(lambda)), applied to rows as E = Z · M^T.
  std::vector<float> rotation = random_rotation(d, rng);
  std::vector<double> lambda(du);
  double total = 0.0;
  for (size_t i = 0; i < du; ++i) total += lambda[i] = std::pow(static_cast<double>(i + 1), -0.7);
  std::vector<float> mix(du * du);
  for (size_t r = 0; r < du; ++r) {
    for (size_t c = 0; c < du; ++c) {
      mix[r * du + c] = rotation[r * du + c] * static_cast<float>(std::sqrt(lambda[c] / total));
    }
  }
  auto spectral_noise = [&](Rng& g, float* out) {
    std::vector<float> z(du);
    for (auto& v : z) v = g.normal();
    for (size_t r = 0; r < du; ++r) {
      float s = 0.0f;
      for (size_t c = 0; c < du; ++c) s += mix[r * du + c] * z[c];
      out[r] = s;
    }
  };

  // Clusters: centres around a shared mean direction, lognormal weights, log-uniform spreads.
  const size_t clusters = std::max<size_t>(1, n / options.vectors_per_cluster);
  std::vector<float> mean(du);
  for (auto& v : mean) v = rng.normal();
  normalize(mean.data(), d);
  std::vector<float> centres(clusters * du);
  std::vector<float> spread(clusters);
  std::vector<double> cumulative(clusters);
  const double log_lo = std::log(std::sqrt(1.0 / options.max_cluster_cos - 1.0));
  const double log_hi = std::log(std::sqrt(1.0 / options.min_cluster_cos - 1.0));
  double weight_sum = 0.0;
  for (size_t c = 0; c < clusters; ++c) {
    float* centre = &centres[c * du];
    spectral_noise(rng, centre);
    for (size_t j = 0; j < du; ++j) centre[j] += 0.6f * mean[j];
    normalize(centre, d);
    // Two rows x = c + s·e, y = c + s·e' have cos ~ 1 / (1 + s^2).
    spread[c] = static_cast<float>(std::exp(log_lo + (log_hi - log_lo) * rng.uniform()));
    weight_sum += std::exp(static_cast<double>(rng.normal()));
    cumulative[c] = weight_sum;
  }

  VectorDataset data;
  data.dim = d;
  data.base.resize(n * du);
  const size_t chunks = (n + kChunkRows - 1) / kChunkRows;
  std::vector<float> z(std::min(n, kChunkRows * kChunksPerPass) * du);
  std::vector<uint32_t> cluster_of(n);
  for (size_t first_chunk = 0; first_chunk < chunks; first_chunk += kChunksPerPass) {
    const size_t last_chunk = std::min(chunks, first_chunk + kChunksPerPass);
    const size_t row0 = first_chunk * kChunkRows;
    const size_t rows = std::min(n, last_chunk * kChunkRows) - row0;
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t chunk = first_chunk; chunk < last_chunk; ++chunk) {
      Rng g(options.seed, kStreamChunk + chunk);
      const size_t begin = chunk * kChunkRows;
      const size_t end = std::min(n, begin + kChunkRows);
      for (size_t i = begin; i < end; ++i) {
        const double u = g.uniform() * weight_sum;
        cluster_of[i] = static_cast<uint32_t>(std::min<size_t>(
            clusters - 1,
            std::upper_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin()));
        float* zi = &z[(i - row0) * du];
        for (size_t j = 0; j < du; ++j) zi[j] = g.normal();
      }
    }
    // E = Z · M^T, written straight into the base rows.
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(rows), d, d, 1.0f,
                z.data(), d, mix.data(), d, 0.0f, &data.base[row0 * du], d);
#pragma omp parallel for schedule(static)
    for (size_t i = row0; i < row0 + rows; ++i) {
      float* x = &data.base[i * du];
      const uint32_t c = cluster_of[i];
      const float s = spread[c];
      const float* centre = &centres[c * du];
      for (size_t j = 0; j < du; ++j) x[j] = centre[j] + s * x[j];
      normalize(x, d);
    }
  }
  add_duplicate_queries(data, options.queries, options.seed, options.min_duplicate_cos,
                        options.max_duplicate_cos);
  return data;
}

void add_duplicate_queries(VectorDataset& data, size_t count, uint64_t seed, float min_cos,
                           float max_cos) {
  check_cos_range("duplicate cosine", min_cos, max_cos);
  const size_t n = data.size();
  const size_t du = static_cast<size_t>(data.dim);
  if (count > n) fail("duplicate queries: {} queries need as many base rows, n is {}", count, n);
  if (data.dim < 2) fail("duplicate queries: need dim >= 2 to perturb a vector, got {}", data.dim);
  // Distinct rows: rejection sampling when count is small against n, a shuffle otherwise.
  Rng rows_rng(seed, kStreamQueryRows);
  std::vector<int64_t> rows;
  rows.reserve(count);
  if (count * 4 <= n) {
    std::unordered_set<int64_t> seen;
    while (rows.size() < count) {
      const auto row = static_cast<int64_t>(rows_rng.below(n));
      if (seen.insert(row).second) rows.push_back(row);
    }
  } else {
    std::vector<int64_t> all(n);
    for (size_t i = 0; i < n; ++i) all[i] = static_cast<int64_t>(i);
    for (size_t i = 0; i < count; ++i) std::swap(all[i], all[i + rows_rng.below(n - i)]);
    rows.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(count));
  }
  const size_t first = data.num_queries();
  data.duplicate.insert(data.duplicate.end(), rows.begin(), rows.end());
  data.queries.resize((first + count) * du);
  const double angle_lo = std::acos(static_cast<double>(max_cos));
  const double angle_hi = std::acos(static_cast<double>(min_cos));
#pragma omp parallel for schedule(static)
  for (size_t q = 0; q < count; ++q) {
    Rng g(seed, kStreamQuery + first + q);
    const float* x = &data.base[static_cast<size_t>(rows[q]) * du];
    float* out = &data.queries[(first + q) * du];
    // A random unit direction orthogonal to x (x is unit length up to rounding).
    std::vector<double> u(du);
    double dot = 0.0, xx = 0.0;
    for (size_t j = 0; j < du; ++j) {
      u[j] = g.normal();
      dot += u[j] * x[j];
      xx += static_cast<double>(x[j]) * x[j];
    }
    double norm = 0.0;
    for (size_t j = 0; j < du; ++j) {
      u[j] -= dot / xx * x[j];
      norm += u[j] * u[j];
    }
    norm = std::sqrt(norm);
    const double angle = angle_lo + (angle_hi - angle_lo) * g.uniform();
    const double along = std::cos(angle) / std::sqrt(xx), across = std::sin(angle) / norm;
    for (size_t j = 0; j < du; ++j) out[j] = static_cast<float>(along * x[j] + across * u[j]);
    normalize(out, data.dim);
  }
}

}  // namespace doppel
