// ivf_flat_search — inner-product search of a FAISS IndexIVFFlat with vectorised dot products
// that give the same bits in any batch.
//
// Debian's FAISS is built without SIMD (OPTIMIZE GENERIC): IndexIVFFlat::search scores every
// stored vector of a probed list with a scalar loop (fvec_inner_product_ref), and a flat coarse
// quantizer scores the centroids the same way for fewer than 20 queries. That loop was a quarter
// of `doppel dedup`'s CPU time. Here the centroids are scored per block of queries, and the
// queries of a batch are grouped by the lists they probe, so that each list is scored against
// all its queries at once, by inner_products.h's register-blocked kernel. docs/decisions.md, "IVF-
// Flat searches run their dot products in BLAS" and "Dot products in one fixed order, not BLAS",
// has the figures.
//
// Same lists probed (a flat quantizer's top nprobe, or an HNSW quantizer's own search), same
// candidates, so the same results as IndexIVFFlat::search up to float rounding: the kernel sums
// a dot product in another order than FAISS's loop, which can swap neighbours whose scores agree
// to the last bits. A query's results do not depend on the other queries of its batch.
#pragma once

#include <cstddef>
#include <cstdint>

namespace faiss {
struct IndexIVFFlat;
}

namespace doppel {

// For each of the n queries (n × index.d), the k stored vectors of highest inner product among
// the index's nprobe nearest lists, best first, as FAISS ids; rows with fewer than k candidates
// are padded with id -1 and score -inf. Requires the inner-product metric (Error otherwise).
// From kMinParallelQueries (exact_top_k.h) queries on it runs on all OpenMP threads; fewer run on
// the calling thread alone, as FAISS runs a single query, since the server searches for several
// requests at once.
void search_ivf_flat(const faiss::IndexIVFFlat& index, size_t n, const float* queries, size_t k,
                     float* scores, int64_t* ids);

}  // namespace doppel
