#include "index/vector_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "index/exact_search.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {
namespace {

// n unit vectors in d dims around n_clusters random centres (cosine to the centre ~0.7..0.95).
std::vector<float> clustered_unit_vectors(size_t n, int d, size_t n_clusters, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::uniform_real_distribution<float> spread(0.2f, 0.6f);
  std::vector<float> centres(n_clusters * d);
  for (auto& v : centres) v = g(rng);
  std::vector<float> x(n * d);
  for (size_t i = 0; i < n; ++i) {
    const size_t c = rng() % n_clusters;
    const float s = spread(rng);
    float norm = 0;
    for (int j = 0; j < d; ++j) {
      x[i * d + j] = centres[c * d + j] / std::sqrt(float(d)) + s * g(rng) / std::sqrt(float(d));
      norm += x[i * d + j] * x[i * d + j];
    }
    norm = std::sqrt(norm);
    for (int j = 0; j < d; ++j) x[i * d + j] /= norm;
  }
  return x;
}

std::vector<int64_t> keys_from(int64_t first, size_t n) {
  std::vector<int64_t> keys(n);
  std::iota(keys.begin(), keys.end(), first);
  return keys;
}

std::filesystem::path temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / "doppel_index_test";
  std::filesystem::create_directories(dir);
  return dir / name;
}

struct Results {
  std::vector<float> scores;
  std::vector<int64_t> keys;
};

Results search(const VectorIndex& index, const std::vector<float>& queries, int k) {
  const size_t n = queries.size() / index.dim();
  Results r{std::vector<float>(n * k), std::vector<int64_t>(n * k)};
  index.search(n, queries.data(), k, r.scores.data(), r.keys.data());
  return r;
}

TEST(VectorIndex, FlatFindsHandComputedNearestNeighbour) {
  const float base[] = {1, 0, 0, 0, 1, 0, 0, 0, 1, 0.6f, 0.8f, 0};
  const int64_t keys[] = {10, 20, 30, 40};
  auto index = make_index("Flat", 3);
  index->add(4, base, keys);
  EXPECT_EQ(index->size(), 4u);
  const float query[] = {0.8f, 0.6f, 0};  // dots: 0.8, 0.6, 0, 0.96
  float scores[6];
  int64_t found[6];
  index->search(1, query, 6, scores, found);
  EXPECT_EQ(found[0], 40);
  EXPECT_NEAR(scores[0], 0.96f, 1e-6);
  EXPECT_EQ(found[1], 10);
  EXPECT_EQ(found[2], 20);
  EXPECT_EQ(found[3], 30);
  EXPECT_EQ(found[4], -1);
  EXPECT_EQ(found[5], -1);
  EXPECT_EQ(scores[5], -std::numeric_limits<float>::infinity());
}

TEST(VectorIndex, HnswRecallAgainstExact) {
  const int d = 64;
  const size_t n = 5000, nq = 200;
  const int k = 10;
  auto base = clustered_unit_vectors(n, d, 50, 1);
  // Same seed, so same centres; the queries are the first rows' fresh-noise siblings.
  auto queries = clustered_unit_vectors(n + nq, d, 50, 1);
  queries.erase(queries.begin(), queries.begin() + n * d);
  auto keys = keys_from(1000, n);
  auto index = make_index("HNSW32", d);
  EXPECT_EQ(index->spec(), "HNSW32,efConstruction=200,efSearch=128");
  index->add(n, base.data(), keys.data());
  auto got = search(*index, queries, k);

  std::vector<float> exact_scores(nq * k);
  std::vector<int64_t> exact_keys(nq * k);
  exact_search(n, base.data(), keys.data(), d, nq, queries.data(), k, exact_scores.data(),
               exact_keys.data());
  size_t hits = 0;
  for (size_t q = 0; q < nq; ++q) {
    std::set<int64_t> truth(exact_keys.begin() + q * k, exact_keys.begin() + (q + 1) * k);
    for (int r = 0; r < k; ++r) hits += truth.count(got.keys[q * k + r]);
  }
  const double recall = double(hits) / (nq * k);
  RecordProperty("recall_at_10", std::to_string(recall));
  EXPECT_GE(recall, 0.95);
}

TEST(VectorIndex, ApproximateIndexesMatchExactOnRandomQueries) {
  const int d = 64;
  const size_t n = 5000, nq = 100;
  const int k = 10;
  auto base = clustered_unit_vectors(n, d, 50, 2);
  auto queries = clustered_unit_vectors(nq, d, 50, 2);
  auto keys = keys_from(0, n);
  std::vector<float> exact_scores(nq * k);
  std::vector<int64_t> exact_keys(nq * k);
  exact_search(n, base.data(), keys.data(), d, nq, queries.data(), k, exact_scores.data(),
               exact_keys.data());
  for (const char* spec : {"Flat", "HNSW16,efSearch=64", "IVF64,Flat,nprobe=16"}) {
    auto index = make_index(spec, d);
    index->train(n, base.data());
    index->add(n, base.data(), keys.data());
    auto got = search(*index, queries, k);
    size_t hits = 0;
    for (size_t q = 0; q < nq; ++q) {
      std::set<int64_t> truth(exact_keys.begin() + q * k, exact_keys.begin() + (q + 1) * k);
      for (int r = 0; r < k; ++r) hits += truth.count(got.keys[q * k + r]);
    }
    const double recall = double(hits) / (nq * k);
    EXPECT_GE(recall, std::string(spec) == "Flat" ? 0.999 : 0.9) << spec;
  }
}

// Removing keys: they never come back from search, the rest still do.
void check_remove(const std::string& spec) {
  const int d = 16;
  const size_t n = 400;
  auto base = clustered_unit_vectors(n, d, 10, 3);
  auto keys = keys_from(500, n);
  auto index = make_index(spec, d);
  index->train(n, base.data());
  index->add(n, base.data(), keys.data());
  const int64_t gone[] = {500, 501, 502, 9999};
  EXPECT_EQ(index->remove(4, gone), 3u) << spec;
  EXPECT_EQ(index->size(), n - 3) << spec;
  std::vector<float> queries(base.begin(), base.begin() + 5 * d);  // rows of 500..504
  auto got = search(*index, queries, 5);
  for (int64_t key : got.keys) {
    EXPECT_TRUE(key != 500 && key != 501 && key != 502) << spec << " returned removed " << key;
  }
  EXPECT_EQ(got.keys[3 * 5], 503) << spec;
  EXPECT_EQ(got.keys[4 * 5], 504) << spec;
  // A removed key can be added again.
  index->add(1, base.data(), gone);
  EXPECT_EQ(index->size(), n - 2) << spec;
  got = search(*index, std::vector<float>(base.begin(), base.begin() + d), 1);
  EXPECT_EQ(got.keys[0], 500) << spec;
}

TEST(VectorIndex, RemoveFlat) { check_remove("Flat"); }
TEST(VectorIndex, RemoveHnswUsesTombstones) { check_remove("HNSW8"); }
TEST(VectorIndex, RemoveIvf) { check_remove("IVF8,Flat,nprobe=8"); }

TEST(VectorIndex, AddRejectsBadKeys) {
  auto index = make_index("Flat", 2);
  const float x[] = {1, 0, 0, 1};
  const int64_t first[] = {7};
  index->add(1, x, first);
  const int64_t again[] = {8, 7};
  try {
    index->add(2, x, again);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("key 7 is already present"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(index->size(), 1u);  // nothing of the failed batch went in
  const int64_t negative[] = {-3};
  EXPECT_THROW(index->add(1, x, negative), Error);
  const int64_t twice[] = {9, 9};
  EXPECT_THROW(index->add(2, x, twice), Error);
  auto ivf = make_index("IVF4,Flat", 2);
  EXPECT_FALSE(ivf->is_trained());
  EXPECT_THROW(ivf->add(1, x, first), Error);
  EXPECT_THROW(ivf->train(2, x), Error);  // fewer rows than lists
}

TEST(VectorIndex, SaveLoadRoundTripGivesIdenticalResults) {
  const int d = 32;
  const size_t n = 1000;
  auto base = clustered_unit_vectors(n, d, 20, 4);
  auto queries = clustered_unit_vectors(50, d, 20, 5);
  auto keys = keys_from(100, n);
  for (const char* spec :
       {"Flat", "HNSW16,efConstruction=100,efSearch=32", "IVF16,Flat,nprobe=4"}) {
    auto index = make_index(spec, d);
    index->train(n, base.data());
    index->add(n, base.data(), keys.data());
    const int64_t gone[] = {100, 150};
    index->remove(2, gone);
    auto path = temp_path("roundtrip.idx");
    index->save(path);
    auto back = load_index(path);
    EXPECT_EQ(back->spec(), index->spec());
    EXPECT_EQ(back->dim(), d);
    EXPECT_EQ(back->size(), n - 2);
    auto a = search(*index, queries, 10);
    auto b = search(*back, queries, 10);
    EXPECT_EQ(a.keys, b.keys) << spec;
    EXPECT_EQ(a.scores, b.scores) << spec;
    // Bookkeeping survives too: present keys are rejected, removed ones accepted.
    EXPECT_THROW(back->add(1, base.data() + d, keys.data() + 1), Error) << spec;
    back->add(1, base.data(), gone);
    EXPECT_EQ(back->size(), n - 1) << spec;
  }
}

TEST(VectorIndex, LoadRejectsBadFiles) {
  const int d = 8;
  auto base = clustered_unit_vectors(100, d, 5, 6);
  auto keys = keys_from(0, 100);
  auto index = make_index("HNSW8", d);
  index->add(100, base.data(), keys.data());
  auto path = temp_path("good.idx");
  index->save(path);
  const std::string good = read_file(path);

  auto expect_error = [&](const std::string& bytes, const std::string& needle) {
    auto bad = temp_path("bad.idx");
    write_file_atomic(bad, bytes);
    try {
      load_index(bad);
      FAIL() << "expected an error mentioning " << needle;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(bad.string()), std::string::npos) << msg;
      EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    }
  };
  expect_error(good.substr(0, 5), "truncated");
  expect_error(good.substr(0, 30), "truncated");
  expect_error(good.substr(0, good.size() - 100), "truncated or corrupt");
  std::string magic = good;
  magic[3] = 'X';
  expect_error(magic, "magic");
  std::string version = good;
  version[8] = 7;
  expect_error(version, "index format version 7, this doppel reads 1");
  std::string count = good;
  count[16] = 99;
  expect_error(count, "header count 99");
  std::string dim = good;
  dim[12] = 9;
  expect_error(dim, "dim 9");
  EXPECT_THROW(load_index(temp_path("missing.idx")), Error);
}

TEST(VectorIndex, BadSpecListsAcceptedForms) {
  for (const char* spec : {"", "PQ32", "HNSW", "HNSWx", "IVF100", "IVF100,PQ8", "Flat,nprobe=3",
                           "HNSW32,nprobe=4", "IVF10,Flat,nprobe=0", "HNSW32,efSearch"}) {
    try {
      make_index(spec, 8);
      FAIL() << "expected an error for " << spec;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("accepted forms"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(make_index("Flat", 0), Error);
  EXPECT_EQ(make_index("IVF10,Flat", 8)->spec(), "IVF10,Flat,nprobe=16");
}

}  // namespace
}  // namespace doppel
