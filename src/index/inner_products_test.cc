#include "index/inner_products.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace doppel {
namespace {

std::vector<float> random_floats(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = g(rng);
  return x;
}

// Every product within float rounding of the double-precision sum, for dimensions with and
// without a remainder after the eight lanes.
TEST(InnerProducts, MatchDoublePrecisionSums) {
  for (const size_t dim : {1, 7, 8, 13, 32, 128, 130}) {
    SCOPED_TRACE(dim);
    const size_t m = 5, n = 70;  // both past the 2 × 4 tile and the 64-row block
    const auto q = random_floats(m * dim, 1);
    const auto r = random_floats(n * dim, 2);
    std::vector<float> out(m * n);
    inner_products(q.data(), m, r.data(), n, dim, out.data(), n);
    for (size_t i = 0; i < m; ++i) {
      for (size_t j = 0; j < n; ++j) {
        double want = 0;
        for (size_t k = 0; k < dim; ++k) want += double(q[i * dim + k]) * r[j * dim + k];
        EXPECT_NEAR(out[i * n + j], want, 1e-5 * double(dim)) << i << "," << j;
      }
    }
  }
}

// A query's products are the same bits alone, as any row of any block of queries, against any
// slice of the rows, and on the portable path: what makes a search's neighbours independent of
// its batch.
TEST(InnerProducts, SameBitsInEveryBlockShape) {
  for (const size_t dim : {13, 128}) {
    SCOPED_TRACE(dim);
    const size_t n = 150;
    const auto q = random_floats(9 * dim, 3);
    const auto r = random_floats(n * dim, 4);
    std::vector<std::vector<float>> portable(9, std::vector<float>(n));  // each query alone
    for (size_t i = 0; i < 9; ++i)
      portable_inner_products(q.data() + i * dim, 1, r.data(), n, dim, portable[i].data(), n);
    std::vector<float> alone(n);
    inner_products(q.data(), 1, r.data(), n, dim, alone.data(), n);
    EXPECT_EQ(portable[0], alone);
    for (size_t m = 2; m <= 9; ++m) {  // every place of the 3-query tiles and of the rest
      std::vector<float> block(m * n);
      inner_products(q.data(), m, r.data(), n, dim, block.data(), n);
      for (size_t i = 0; i < m; ++i) {
        EXPECT_EQ(std::vector<float>(block.begin() + i * n, block.begin() + (i + 1) * n),
                  portable[i])
            << "query " << i << " of " << m;
      }
    }
    for (const size_t from : {1, 3, 5, 66}) {  // rows out of step with the tiles and blocks
      std::vector<float> slice(n - from);
      inner_products(q.data(), 1, r.data() + from * dim, n - from, dim, slice.data(), n - from);
      EXPECT_EQ(slice, std::vector<float>(alone.begin() + from, alone.end())) << "from " << from;
    }
  }
}

}  // namespace
}  // namespace doppel
