#include "bench/dot_bench.h"

#include <cblas.h>
#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <random>

#include "index/inner_products.h"

namespace doppel {
namespace {

using Product = std::function<void(const float* queries, size_t m, const float* rows, size_t n,
                                   size_t dim, float* out)>;

void blas_product(const float* queries, size_t m, const float* rows, size_t n, size_t dim,
                  float* out) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(dim), 1.0f, queries, static_cast<int>(dim), rows,
              static_cast<int>(dim), 0.0f, out, static_cast<int>(n));
}

void kernel_product(const float* queries, size_t m, const float* rows, size_t n, size_t dim,
                    float* out) {
  inner_products(queries, m, rows, n, dim, out, n);
}

// Median GFLOP/s of `product` over the repetitions.
double gflops(const Product& product, const std::vector<float>& queries,
              const std::vector<float>& rows, DotShape shape, size_t dim, int repetitions) {
  std::vector<float> out(shape.queries * shape.rows);
  const double flops = 2.0 * double(shape.queries) * double(shape.rows) * double(dim);
  const int calls = std::max(1, static_cast<int>(4e9 / flops));  // ~0.2 s at 20 GFLOP/s
  product(queries.data(), shape.queries, rows.data(), shape.rows, dim, out.data());
  std::vector<double> rates;
  for (int r = 0; r < repetitions; ++r) {
    const auto start = std::chrono::steady_clock::now();
    for (int c = 0; c < calls; ++c)
      product(queries.data(), shape.queries, rows.data(), shape.rows, dim, out.data());
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    rates.push_back(flops * calls / took.count() / 1e9);
  }
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

// The share of query 0's scores whose bits differ between scoring it alone and as the first of
// four queries.
double changed_in_a_batch(const Product& product, const std::vector<float>& queries,
                          const std::vector<float>& rows, size_t n, size_t dim) {
  std::vector<float> alone(n), batch(4 * n);
  product(queries.data(), 1, rows.data(), n, dim, alone.data());
  product(queries.data(), 4, rows.data(), n, dim, batch.data());
  size_t changed = 0;
  for (size_t j = 0; j < n; ++j) changed += std::memcmp(&alone[j], &batch[j], sizeof(float)) != 0;
  return double(changed) / double(n);
}

std::vector<float> random_rows(size_t n, size_t dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> x(n * dim);
  for (float& v : x) v = normal(rng);
  return x;
}

}  // namespace

std::vector<DotBenchRow> run_dot_bench(const std::vector<DotShape>& shapes, size_t dim,
                                       int repetitions) {
  const int saved_threads = omp_get_max_threads();
  omp_set_num_threads(1);  // OpenBLAS's OpenMP build reads the calling thread's setting
  std::vector<DotBenchRow> out;
  for (const DotShape& shape : shapes) {
    const auto queries = random_rows(std::max<size_t>(shape.queries, 4), dim, 1);
    const auto rows = random_rows(shape.rows, dim, 2);
    DotBenchRow row;
    row.shape = shape;
    row.kernel_gflops = gflops(kernel_product, queries, rows, shape, dim, repetitions);
    row.blas_gflops = gflops(blas_product, queries, rows, shape, dim, repetitions);
    row.kernel_changed = changed_in_a_batch(kernel_product, queries, rows, shape.rows, dim);
    row.blas_changed = changed_in_a_batch(blas_product, queries, rows, shape.rows, dim);
    out.push_back(row);
  }
  omp_set_num_threads(saved_threads);
  return out;
}

std::string dot_bench_markdown(const std::vector<DotBenchRow>& rows, size_t dim) {
  std::string md = fmt::format(
      "Dot products, {}-d, 1 thread: GFLOP/s (median), and the share of a query's scores whose "
      "bits change between scoring it alone and as one of four queries.\n\n"
      "| queries × rows | inner_products | OpenBLAS sgemm | ratio | changed in a batch: "
      "inner_products | OpenBLAS |\n|---|---:|---:|---:|---:|---:|\n",
      dim);
  for (const DotBenchRow& r : rows) {
    md +=
        fmt::format("| {} × {} | {:.1f} | {:.1f} | {:.2f}× | {:.1f}% | {:.1f}% |\n",
                    r.shape.queries, r.shape.rows, r.kernel_gflops, r.blas_gflops,
                    r.kernel_gflops / r.blas_gflops, 100 * r.kernel_changed, 100 * r.blas_changed);
  }
  return md;
}

}  // namespace doppel
