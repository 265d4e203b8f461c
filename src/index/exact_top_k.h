// exact_top_k — exact inner-product top-k of queries over a base, fast: register-blocked dot
// products (inner_products.h) over blocks of queries × base rows, then a per-query running
// top-k. A query's scores, and so its top k, are the same bits alone or in any batch, on any
// number of threads. The benchmarks' ground truth, a Flat index's search and the IVF-Flat
// search's choice of lists (ivf_flat_search.h). Same contract as exact_search.h (the simple
// reference it is tested against), with base keys = row numbers.
#pragma once

#include <cstddef>
#include <cstdint>

namespace doppel {

// Batches of fewer queries than this run on the calling thread alone, here and in the IVF-Flat
// search (ivf_flat_search.h): a server searches for several requests at once.
inline constexpr size_t kMinParallelQueries = 32;

// For each of the n queries (n×dim), the k base rows (n_base×dim) with the highest inner product,
// best first; ties broken by the smaller row number. Rows are padded with key -1 and score -inf
// when n_base < k. scores and keys receive n×k values. From kMinParallelQueries queries on
// it uses the calling thread's OpenMP threads (omp_get_max_threads()).
void exact_top_k(size_t n_base, const float* base, int dim, size_t n, const float* queries, int k,
                 float* scores, int64_t* keys);

}  // namespace doppel
