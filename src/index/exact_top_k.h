// exact_top_k — exact inner-product top-k of queries over a base, fast: BLAS sgemm over blocks of
// queries × base rows, then a per-query running top-k. The benchmarks' ground truth (1000
// queries × 10M × 128-d in well under a minute on 2 cores) and the IVF-Flat search's choice of
// lists (ivf_flat_blas.h). Same contract as exact_search.h (the simple reference it is tested
// against), with base keys = row numbers.
#pragma once

#include <cstddef>
#include <cstdint>

namespace doppel {

// For each of the n queries (n×dim), the k base rows (n_base×dim) with the highest inner product,
// best first; ties broken by the smaller row number. Rows are padded with key -1 and score -inf
// when n_base < k. scores and keys receive n×k values. Uses the calling thread's OpenMP threads
// (omp_get_max_threads()).
void exact_top_k(size_t n_base, const float* base, int dim, size_t n, const float* queries, int k,
                 float* scores, int64_t* keys);

}  // namespace doppel
