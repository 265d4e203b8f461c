#include "index/ivf_flat_search.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "index/exact_search.h"
#include "index/vector_index.h"
#include "util/expect_error.h"

namespace doppel {
namespace {

constexpr int kDim = 32;

// n unit vectors, each a noisy copy of one of `centres` random directions.
std::vector<float> unit_vectors(size_t n, size_t centres, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> centre(centres * kDim), x(n * kDim);
  for (float& v : centre) v = g(rng);
  for (size_t i = 0; i < n; ++i) {
    float* row = &x[i * kDim];
    const float* c = &centre[(rng() % centres) * kDim];
    float norm = 0;
    for (int j = 0; j < kDim; ++j) {
      row[j] = c[j] + 0.5f * g(rng);
      norm += row[j] * row[j];
    }
    for (int j = 0; j < kDim; ++j) row[j] /= std::sqrt(norm);
  }
  return x;
}

struct Ivf {
  explicit Ivf(size_t nlist = 16) : index(&quantizer, kDim, nlist, faiss::METRIC_INNER_PRODUCT) {}
  faiss::IndexFlatIP quantizer{kDim};
  faiss::IndexIVFFlat index;
};

// Trains the inner-product IVF on `base` and adds it with ids 1000, 1001, ...
void fill(Ivf& ivf, const std::vector<float>& base) {
  const size_t n = base.size() / kDim;
  ivf.index.train(static_cast<faiss::Index::idx_t>(n), base.data());
  std::vector<faiss::Index::idx_t> ids(n);
  std::iota(ids.begin(), ids.end(), 1000);
  ivf.index.add_with_ids(static_cast<faiss::Index::idx_t>(n), base.data(), ids.data());
}

struct TopK {
  std::vector<float> scores;
  std::vector<faiss::Index::idx_t> ids;
};

TopK faiss_search(const faiss::IndexIVFFlat& index, const std::vector<float>& queries, size_t k) {
  const size_t n = queries.size() / kDim;
  TopK out{std::vector<float>(n * k), std::vector<faiss::Index::idx_t>(n * k)};
  index.search(static_cast<faiss::Index::idx_t>(n), queries.data(),
               static_cast<faiss::Index::idx_t>(k), out.scores.data(), out.ids.data());
  return out;
}

TopK doppel_search(const faiss::IndexIVFFlat& index, const std::vector<float>& queries, size_t k) {
  const size_t n = queries.size() / kDim;
  TopK out{std::vector<float>(n * k), std::vector<faiss::Index::idx_t>(n * k)};
  search_ivf_flat(index, n, queries.data(), k, out.scores.data(), out.ids.data());
  return out;
}

// Same neighbours in the same order with the same scores, up to float rounding: ids may differ
// only where two candidates' scores agree to 1e-5.
void expect_same_results(const TopK& want, const TopK& got, size_t k) {
  ASSERT_EQ(want.ids.size(), got.ids.size());
  size_t exact = 0;
  for (size_t i = 0; i < want.ids.size(); ++i) {
    if (want.ids[i] < 0) {
      EXPECT_EQ(got.ids[i], -1) << "entry " << i;
      EXPECT_EQ(got.scores[i], -std::numeric_limits<float>::infinity());
      exact += got.ids[i] == -1;
      continue;
    }
    EXPECT_NEAR(got.scores[i], want.scores[i], 1e-5) << "entry " << i;
    if (got.ids[i] == want.ids[i]) {
      ++exact;
      continue;
    }
    const size_t r = i % k;
    const bool near_tie = (r > 0 && std::abs(want.scores[i - 1] - want.scores[i]) < 1e-5) ||
                          (r + 1 < k && std::abs(want.scores[i + 1] - want.scores[i]) < 1e-5);
    EXPECT_TRUE(near_tie) << "entry " << i << ": id " << got.ids[i] << ", FAISS " << want.ids[i];
  }
  EXPECT_GE(exact, want.ids.size() * 99 / 100);
}

TEST(IvfFlatSearch, SameNeighboursAsFaissSearch) {
  Ivf ivf;
  fill(ivf, unit_vectors(4000, 40, 1));
  const auto queries = unit_vectors(300, 40, 2);
  for (const size_t nprobe : {1, 4, 16}) {
    SCOPED_TRACE(nprobe);
    ivf.index.nprobe = nprobe;
    expect_same_results(faiss_search(ivf.index, queries, 10), doppel_search(ivf.index, queries, 10),
                        10);
  }
}

// Lists longer than the scan's row block (2,048) are scored in several products.
TEST(IvfFlatSearch, LongListsGiveTheSameNeighbours) {
  Ivf ivf(2);
  fill(ivf, unit_vectors(6000, 40, 8));
  ivf.index.nprobe = 1;
  EXPECT_GT(ivf.index.invlists->list_size(0), 2048u);
  const auto queries = unit_vectors(100, 40, 9);
  expect_same_results(faiss_search(ivf.index, queries, 10), doppel_search(ivf.index, queries, 10),
                      10);
}

TEST(IvfFlatSearch, PadsWhenTheProbedListsHoldFewerThanK) {
  Ivf ivf;
  fill(ivf, unit_vectors(200, 8, 3));
  ivf.index.nprobe = 1;
  const auto queries = unit_vectors(64, 8, 4);
  const auto got = doppel_search(ivf.index, queries, 150);
  size_t padded = 0;
  for (size_t i = 0; i < got.ids.size(); ++i) padded += got.ids[i] < 0;
  EXPECT_GT(padded, 0u);  // no list of 16 holds 150 of the 200 vectors
  expect_same_results(faiss_search(ivf.index, queries, 150), got, 150);
}

TEST(IvfFlatSearch, RejectsAnotherMetric) {
  faiss::IndexFlatL2 quantizer(kDim);
  faiss::IndexIVFFlat index(&quantizer, kDim, 4, faiss::METRIC_L2);
  const auto base = unit_vectors(100, 4, 5);
  index.train(100, base.data());
  index.add(100, base.data());
  std::vector<float> scores(10);
  std::vector<faiss::Index::idx_t> ids(10);
  expect_error([&] { search_ivf_flat(index, 1, base.data(), 10, scores.data(), ids.data()); },
               {"inner product"});
}

// Through the VectorIndex, which searches a bare IVF-Flat index this way: with every list probed,
// batches (on all threads) and single queries (on the calling thread) find the exact neighbours.
TEST(IvfFlatSearch, VectorIndexFindsExactNeighboursWithEveryListProbed) {
  auto index = make_index("IVF16,Flat,nprobe=16", kDim);
  const auto base = unit_vectors(3000, 30, 6);
  std::vector<int64_t> keys(3000);
  std::iota(keys.begin(), keys.end(), 1);
  index->train(3000, base.data());
  index->add(3000, base.data(), keys.data());
  const auto queries = unit_vectors(100, 30, 7);
  const size_t n = queries.size() / kDim, k = 5;
  TopK exact{std::vector<float>(n * k), std::vector<faiss::Index::idx_t>(n * k)};
  exact_search(3000, base.data(), keys.data(), kDim, n, queries.data(), k, exact.scores.data(),
               exact.ids.data());
  TopK batch = exact, single = exact;
  index->search(n, queries.data(), k, batch.scores.data(), batch.ids.data());
  for (size_t q = 0; q < n; ++q)
    index->search(1, &queries[q * kDim], k, &single.scores[q * k], &single.ids[q * k]);
  expect_same_results(exact, batch, k);
  expect_same_results(exact, single, k);
}

}  // namespace
}  // namespace doppel
