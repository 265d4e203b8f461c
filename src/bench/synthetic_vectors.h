// Synthetic embedding data with known near-duplicates, the data of the FAISS anchor
// (shared/anchors/faiss-on-this-machine.md), generated in C++ so that doppel's indexes can be
// benchmarked on the same family of data without Python.
//
// Base vectors: n / vectors_per_cluster Gaussian clusters. Cluster weights are lognormal, so a
// few clusters are large and many are small. Cluster centres share a mean direction (real
// embeddings are not centred) and are spread by an anisotropic spectrum (variance of component
// i proportional to (i+1)^-0.7) under a random rotation, so no axis is special. Each cluster has
// its own spread, log-uniform between the spreads that give an intra-cluster cosine of
// max_cluster_cos and min_cluster_cos (~0.96 .. ~0.61). Every vector is L2-normalised.
//
// Queries: each is a perturbed copy of a distinct base row (its "duplicate"): the row rotated by
// an angle drawn uniformly between acos(max_duplicate_cos) and acos(min_duplicate_cos) towards a
// random orthogonal direction, so its cosine to the original lies exactly in
// [min_duplicate_cos, max_duplicate_cos].
//
// Deterministic per seed, independent of the number of threads: rows are generated in fixed
// chunks of 4096, each with its own RNG stream derived from (seed, chunk); each query has its own
// stream too. Rows are i.i.d., so any prefix of the base is a random sample of it (used as the
// training sample by the index benchmark).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace doppel {

struct SyntheticVectorOptions {
  size_t n = 1'000'000;             // base vectors
  int dim = 128;                    // dimensions
  size_t queries = 1000;            // queries, each a perturbed copy of a distinct base row
  uint64_t seed = 2024;             // everything is a function of the seed
  size_t vectors_per_cluster = 50;  // clusters = max(1, n / vectors_per_cluster)
  float min_cluster_cos = 0.61f;    // intra-cluster cosine of the loosest cluster (approx.)
  float max_cluster_cos = 0.96f;    // intra-cluster cosine of the tightest cluster (approx.)
  float min_duplicate_cos = 0.89f;  // query vs its duplicate: exact range
  float max_duplicate_cos = 0.995f;

  // Throws doppel::Error naming the bad field (n == 0, queries > n, dim < 2, ranges not in
  // (0, 1) or reversed).
  void validate() const;
};

// Base vectors and queries with the base row each query duplicates. Keys are row numbers.
struct VectorDataset {
  int dim = 0;
  std::vector<float> base;         // n × dim, row-major, L2-normalised
  std::vector<float> queries;      // q × dim, row-major, L2-normalised
  std::vector<int64_t> duplicate;  // q: the base row each query is a perturbed copy of

  size_t size() const { return dim > 0 ? base.size() / static_cast<size_t>(dim) : 0; }
  size_t num_queries() const { return duplicate.size(); }
};

// Generates the base and the queries (OpenMP for the rows, BLAS sgemm for the rotation).
// 10M × 128 takes on the order of 15-30 s on 2 cores and 5 GiB of memory.
VectorDataset make_synthetic_vectors(const SyntheticVectorOptions& options);

// Adds `count` queries to a dataset whose base is already filled (synthetic or real vectors):
// perturbed copies of distinct base rows drawn with `seed`, cosine to the original uniform in
// angle between min_cos and max_cos. Base rows should be L2-normalised. Error when count > n.
void add_duplicate_queries(VectorDataset& data, size_t count, uint64_t seed, float min_cos,
                           float max_cos);

}  // namespace doppel
