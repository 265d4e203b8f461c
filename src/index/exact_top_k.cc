#include "index/exact_top_k.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "index/inner_products.h"
#include "index/top_k.h"
#include "util/error.h"

namespace doppel {
namespace {

// Block sizes: a query block × base block of scores is 1024 × 8192 floats = 32 MiB.
constexpr size_t kQueryBlock = 1024;
constexpr size_t kBaseBlock = 8192;
// Queries scored by one thread at a time against the base block.
constexpr size_t kQueryTile = 16;

}  // namespace

void exact_top_k(size_t n_base, const float* base, int dim, size_t n, const float* queries, int k,
                 float* scores, int64_t* keys) {
  DOPPEL_CHECK(k > 0, "k = {}", k);
  DOPPEL_CHECK(dim > 0, "dim = {}", dim);
  const size_t kk = static_cast<size_t>(k);
  const size_t du = static_cast<size_t>(dim);
  std::fill(scores, scores + n * kk, -std::numeric_limits<float>::infinity());
  std::fill(keys, keys + n * kk, int64_t{-1});
  std::vector<float> block(std::min(n, kQueryBlock) * std::min(n_base, kBaseBlock));
  for (size_t q0 = 0; q0 < n; q0 += kQueryBlock) {
    const size_t qn = std::min(kQueryBlock, n - q0);
    for (size_t b0 = 0; b0 < n_base; b0 += kBaseBlock) {
      const size_t bn = std::min(kBaseBlock, n_base - b0);
#pragma omp parallel if (n >= kMinParallelQueries)
      {
#pragma omp for schedule(dynamic, 1)
        for (size_t t = 0; t < qn; t += kQueryTile) {
          inner_products(queries + (q0 + t) * du, std::min(kQueryTile, qn - t), base + b0 * du, bn,
                         du, &block[t * bn], bn);
        }
#pragma omp for schedule(static)
        for (size_t q = 0; q < qn; ++q) {
          float* top_scores = scores + (q0 + q) * kk;
          int64_t* top_keys = keys + (q0 + q) * kk;
          const float* row = &block[q * bn];
          for (size_t j = 0; j < bn; ++j)
            offer_top(top_scores, top_keys, kk, row[j], static_cast<int64_t>(b0 + j));
        }
      }
    }
  }
}

}  // namespace doppel
