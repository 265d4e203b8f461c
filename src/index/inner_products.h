// inner_products — the dot products of a block of queries with a block of rows, each summed in
// one fixed order, so that a score has the same bits whatever block it is computed in.
//
// BLAS does not promise that: OpenBLAS's sgemm sums a product in an order that depends on the
// block's shape and the threads (on this machine, a query scored alone and the same query as one
// of four differ in the last bit for 85–88% of the rows; `doppel bench dot`). The nearest
// neighbours of a listing then depend on which other listings were searched with it: a dedup shard,
// the server and one unsharded run could each see another neighbour where two tie to float
// precision.
//
// Here every product is the same sequence of operations: eight partial sums over the dimension,
// each a chain of fused multiply-adds in dimension order, then added pairwise (lanes 0+4, 1+5,
// 2+6, 3+7, then (0+4)+(2+6) and (1+5)+(3+7), then those two), then the last dim % 8 terms by
// fused multiply-add. With AVX2 and FMA that is one vector accumulator per product, register-
// blocked over 3 queries × 4 rows (12 accumulators, 7 loads for 12 multiply-adds; a lone query
// goes row by row), with the four products of a query's tile added across their lanes together;
// elsewhere a portable loop does the same arithmetic with std::fma (slower, the same bits).
#pragma once

#include <cstddef>

namespace doppel {

// out[i * out_stride + j] = <queries[i], rows[j]> for the m queries and n rows (row-major, dim
// floats each). Runs on the calling thread.
void inner_products(const float* queries, size_t m, const float* rows, size_t n, size_t dim,
                    float* out, size_t out_stride);

// The portable loop inner_products runs on a CPU without AVX2 and FMA: the same bits, slower.
void portable_inner_products(const float* queries, size_t m, const float* rows, size_t n,
                             size_t dim, float* out, size_t out_stride);

}  // namespace doppel
