// exact_search — brute-force inner-product top-k, the exact twin of every VectorIndex: tests and
// benchmarks measure an approximate index's recall against it. Simple loops, no BLAS: it is a
// reference, not a hot path.
#pragma once

#include <cstddef>
#include <cstdint>

namespace doppel {

// For each of the n queries (n×dim), the k base rows (n_base×dim, keyed by base_keys) with the
// highest inner product, best first; ties broken by the smaller key. Rows are padded with key -1
// and score -inf when n_base < k. scores and keys receive n×k values.
void exact_search(size_t n_base, const float* base, const int64_t* base_keys, int dim, size_t n,
                  const float* queries, int k, float* scores, int64_t* keys);

}  // namespace doppel
