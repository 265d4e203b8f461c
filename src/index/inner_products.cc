#include "index/inner_products.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace doppel {
namespace {

constexpr size_t kLanes = 8;
// Rows scored against every query of a call before the next rows: 64 rows of 128 floats (32 KiB)
// stay in the first-level cache while the queries pass over them.
constexpr size_t kRowBlock = 64;

// The pairwise sum of eight lanes, in the order of the vector path's horizontal sum.
float sum_lanes(const std::array<float, kLanes>& s) {
  const float a = s[0] + s[4], b = s[1] + s[5], c = s[2] + s[6], d = s[3] + s[7];
  return (a + c) + (b + d);
}

// The products' last dim % 8 terms, shared by both paths.
float add_tail(float sum, const float* a, const float* b, size_t from, size_t dim) {
  for (size_t k = from; k < dim; ++k) sum = std::fma(a[k], b[k], sum);
  return sum;
}

float portable_product(const float* a, const float* b, size_t dim) {
  const size_t whole = dim / kLanes * kLanes;
  std::array<float, kLanes> s{};
  for (size_t k = 0; k < whole; k += kLanes) {
    for (size_t l = 0; l < kLanes; ++l) s[l] = std::fma(a[k + l], b[k + l], s[l]);
  }
  return add_tail(sum_lanes(s), a, b, whole, dim);
}

__attribute__((target("avx2,fma"))) float sum_lanes(__m256 v) {
  const __m128 lo = _mm256_castps256_ps128(v);
  const __m128 hi = _mm256_extractf128_ps(v, 1);
  const __m128 four = _mm_add_ps(lo, hi);                          // 0+4, 1+5, 2+6, 3+7
  const __m128 two = _mm_add_ps(four, _mm_movehl_ps(four, four));  // (0+4)+(2+6), (1+5)+(3+7)
  return _mm_cvtss_f32(_mm_add_ss(two, _mm_shuffle_ps(two, two, 1)));
}

__attribute__((target("avx2,fma"))) float vector_product(const float* a, const float* b,
                                                         size_t dim) {
  const size_t whole = dim / kLanes * kLanes;
  __m256 acc = _mm256_setzero_ps();
  for (size_t k = 0; k < whole; k += kLanes)
    acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), acc);
  return add_tail(sum_lanes(acc), a, b, whole, dim);
}

// Rows [j, j + 4) against queries i and i + 1: eight accumulators, each a product's own chain.
__attribute__((target("avx2,fma"))) void vector_tile(const float* q0, const float* rows, size_t j,
                                                     size_t dim, float* o0, float* o1) {
  const size_t whole = dim / kLanes * kLanes;
  const float* q1 = q0 + dim;
  const float* r0 = rows + j * dim;
  const float* r1 = r0 + dim;
  const float* r2 = r1 + dim;
  const float* r3 = r2 + dim;
  __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a03 = a00;
  __m256 a10 = a00, a11 = a00, a12 = a00, a13 = a00;
  for (size_t k = 0; k < whole; k += kLanes) {
    const __m256 x0 = _mm256_loadu_ps(q0 + k);
    const __m256 x1 = _mm256_loadu_ps(q1 + k);
    __m256 y = _mm256_loadu_ps(r0 + k);
    a00 = _mm256_fmadd_ps(x0, y, a00);
    a10 = _mm256_fmadd_ps(x1, y, a10);
    y = _mm256_loadu_ps(r1 + k);
    a01 = _mm256_fmadd_ps(x0, y, a01);
    a11 = _mm256_fmadd_ps(x1, y, a11);
    y = _mm256_loadu_ps(r2 + k);
    a02 = _mm256_fmadd_ps(x0, y, a02);
    a12 = _mm256_fmadd_ps(x1, y, a12);
    y = _mm256_loadu_ps(r3 + k);
    a03 = _mm256_fmadd_ps(x0, y, a03);
    a13 = _mm256_fmadd_ps(x1, y, a13);
  }
  o0[j] = add_tail(sum_lanes(a00), q0, r0, whole, dim);
  o0[j + 1] = add_tail(sum_lanes(a01), q0, r1, whole, dim);
  o0[j + 2] = add_tail(sum_lanes(a02), q0, r2, whole, dim);
  o0[j + 3] = add_tail(sum_lanes(a03), q0, r3, whole, dim);
  o1[j] = add_tail(sum_lanes(a10), q1, r0, whole, dim);
  o1[j + 1] = add_tail(sum_lanes(a11), q1, r1, whole, dim);
  o1[j + 2] = add_tail(sum_lanes(a12), q1, r2, whole, dim);
  o1[j + 3] = add_tail(sum_lanes(a13), q1, r3, whole, dim);
}

__attribute__((target("avx2,fma"))) void vector_products(const float* queries, size_t m,
                                                         const float* rows, size_t n, size_t dim,
                                                         float* out, size_t out_stride) {
  size_t i = 0;
  for (; i + 2 <= m; i += 2) {
    const float* q = queries + i * dim;
    float* o0 = out + i * out_stride;
    float* o1 = o0 + out_stride;
    size_t j = 0;
    for (; j + 4 <= n; j += 4) vector_tile(q, rows, j, dim, o0, o1);
    for (; j < n; ++j) {
      o0[j] = vector_product(q, rows + j * dim, dim);
      o1[j] = vector_product(q + dim, rows + j * dim, dim);
    }
  }
  for (; i < m; ++i) {
    for (size_t j = 0; j < n; ++j)
      out[i * out_stride + j] = vector_product(queries + i * dim, rows + j * dim, dim);
  }
}

bool has_avx2_fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

}  // namespace

void inner_products(const float* queries, size_t m, const float* rows, size_t n, size_t dim,
                    float* out, size_t out_stride) {
  const auto products = has_avx2_fma() ? vector_products : portable_inner_products;
  for (size_t j0 = 0; j0 < n; j0 += kRowBlock) {
    products(queries, m, rows + j0 * dim, std::min(kRowBlock, n - j0), dim, out + j0, out_stride);
  }
}

void portable_inner_products(const float* queries, size_t m, const float* rows, size_t n,
                             size_t dim, float* out, size_t out_stride) {
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j)
      out[i * out_stride + j] = portable_product(queries + i * dim, rows + j * dim, dim);
  }
}

}  // namespace doppel
