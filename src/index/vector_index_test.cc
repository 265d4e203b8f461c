#include "index/vector_index.h"

#include <gtest/gtest.h>

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "index/exact_search.h"
#include "index/exact_top_k.h"
#include "util/error.h"
#include "util/expect_error.h"
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

TEST(ExactTopK, MatchesExactSearch) {
  const int d = 32, k = 10;
  const size_t n = 2000, nq = 150;
  const auto base = clustered_unit_vectors(n, d, 20, 3);
  const auto queries = clustered_unit_vectors(nq, d, 20, 4);
  const auto base_keys = keys_from(0, n);
  std::vector<float> want_scores(nq * k), got_scores(nq * k);
  std::vector<int64_t> want(nq * k), got(nq * k);
  exact_search(n, base.data(), base_keys.data(), d, nq, queries.data(), k, want_scores.data(),
               want.data());
  exact_top_k(n, base.data(), d, nq, queries.data(), k, got_scores.data(), got.data());
  EXPECT_EQ(got, want);
  for (size_t i = 0; i < got_scores.size(); ++i) EXPECT_NEAR(got_scores[i], want_scores[i], 1e-5);
}

TEST(ExactTopK, PadsWhenBaseIsSmallerThanK) {
  const std::vector<float> base = {1, 0, 0, 1};
  const std::vector<float> query = {0.6f, 0.8f};
  std::vector<float> scores(3);
  std::vector<int64_t> keys(3);
  exact_top_k(2, base.data(), 2, 1, query.data(), 3, scores.data(), keys.data());
  EXPECT_EQ(keys, (std::vector<int64_t>{1, 0, -1}));
  EXPECT_TRUE(std::isinf(scores[2]));
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
    // A loaded index saved over its own file, unchanged (IVF lists still mapped from that file,
    // as after `index --search-params` or a server stop without writes), loads as it was.
    back->save(path);
    auto again = search(*load_index(path), queries, 10);
    EXPECT_EQ(again.keys, a.keys) << spec;
    EXPECT_EQ(again.scores, a.scores) << spec;
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

  auto expect_error = [&](const std::string& bytes, std::string_view needle) {
    expect_load_error(
        temp_path("bad.idx"), bytes, [](const auto& p) { load_index(p); }, needle);
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
  for (const char* spec : {"", "PQ32", "HNSW", "HNSWx", "IVF100", "IVF100,PQ3", "Flat,nprobe=3",
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

double recall_at_k(const std::vector<int64_t>& got, const std::vector<int64_t>& exact, size_t nq,
                   int k) {
  size_t hits = 0;
  for (size_t q = 0; q < nq; ++q) {
    std::set<int64_t> truth(exact.begin() + q * k, exact.begin() + (q + 1) * k);
    for (int r = 0; r < k; ++r) hits += truth.count(got[q * k + r]);
  }
  return double(hits) / double(nq * k);
}

// The IVF family: canonical forms, and parsing the canonical form gives it back.
TEST(VectorIndex, IvfFamilySpecsRoundTrip) {
  const std::pair<const char*, const char*> cases[] = {
      {"IVF16,SQ8", "IVF16,SQ8,nprobe=16"},
      {"IVF16,PQ8,nprobe=4", "IVF16,PQ8,nprobe=4"},
      {"OPQ8,IVF16,PQ8,nprobe=32", "OPQ8,IVF16,PQ8,nprobe=32"},
      {"PCA16,IVF16,Flat", "PCA16,IVF16,Flat,nprobe=16"},
      {"IVF16,PQ8,RFlat,nprobe=16,k_factor=4", "IVF16,PQ8,RFlat,nprobe=16,k_factor=4"},
      {"IVF16,PQ8,Refine(SQ8),k_factor=2", "IVF16,PQ8,Refine(SQ8),nprobe=16,k_factor=2"},
      {"IVF16,PQ8,RDisk", "IVF16,PQ8,RDisk,nprobe=16,k_factor=4"},
      {"PCA16,IVF16,PQ4,RDisk,k_factor=8,nprobe=2", "PCA16,IVF16,PQ4,RDisk,nprobe=2,k_factor=8"},
      {"IVF16_HNSW8,SQ8", "IVF16_HNSW8,SQ8,nprobe=16"},
      {"OPQ8,IVF16_HNSW4,PQ8,RDisk", "OPQ8,IVF16_HNSW4,PQ8,RDisk,nprobe=16,k_factor=4"},
  };
  for (const auto& [spec, canonical] : cases) {
    auto index = make_index(spec, 32);
    EXPECT_EQ(index->spec(), canonical) << spec;
    EXPECT_EQ(make_index(index->spec(), 32)->spec(), canonical) << spec;
    EXPECT_EQ(index->dim(), 32) << spec;  // PCA reduces the IVF's dim, not the index's
  }
}

TEST(VectorIndex, BadIvfFamilySpecsSayWhy) {
  const std::pair<const char*, const char*> cases[] = {
      {"IVF16,PQ7", "PQ7 needs m to divide the dimension 32"},
      {"PCA12,IVF16,PQ8", "PQ8 needs m to divide the dimension 12"},
      {"OPQ5,IVF16,PQ8", "OPQ5 needs m to divide the dimension 32"},
      {"PCA64,IVF16,Flat", "PCA64 cannot reduce dimension 32"},
      {"LSH16,IVF16,Flat", "unknown index type \"LSH16\""},
      {"OPQ8,Flat", "\"OPQ8\" must be followed by \",IVF<nlist>\""},
      {"IVF16,SQ4", "IVF<nlist> must be followed by"},
      {"IVF16,Flat,k_factor=4", "parameter \"k_factor\" does not apply"},
      {"IVF16,PQ8,RDisk,efSearch=4", "parameter \"efSearch\" does not apply"},
      {"IVF16,PQ0", "PQ's m must be a positive integer"},
      {"IVF16_HNSW,Flat", "the coarse HNSW's M must be a positive integer"},
      {"IVF16_HNSWx,Flat", "the coarse HNSW's M must be a positive integer"},
      {"IVF_HNSW8,Flat", "IVF's nlist must be a positive integer"},
  };
  for (const auto& [spec, why] : cases) {
    try {
      make_index(spec, 32);
      FAIL() << "expected an error for " << spec;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(why), std::string::npos) << msg;
      EXPECT_NE(msg.find("accepted forms"), std::string::npos) << msg;
    }
  }
  auto pq = make_index("IVF4,PQ4", 16);
  auto base = clustered_unit_vectors(100, 16, 5, 9);
  EXPECT_THROW(pq->train(100, base.data()), Error);  // PQ codebooks need >= 256 rows
}

const char* const kIvfFamily[] = {
    "IVF32,SQ8",
    "IVF32,PQ8",
    // OPQ is covered by RemoveIvfFamily (400 rows): its training (niter=50) is slow here.
    "PCA16,IVF32,Flat",
    "IVF32,PQ8,RFlat,k_factor=8",
    "IVF32,PQ8,Refine(SQ8),k_factor=8",
    "IVF32,PQ8,RDisk,k_factor=8",
    "PCA16,IVF32,PQ8,RDisk,k_factor=8",
    "IVF32_HNSW8,PQ8,RDisk,k_factor=8",
};

// Recall against exact_search on small clustered data, after removing a tenth of the keys; then
// save/load gives identical results and keeps the bookkeeping.
TEST(VectorIndex, IvfFamilyRecallRemoveAndRoundTrip) {
  const int d = 32;
  const size_t n = 3000, nq = 100;
  const int k = 10;
  auto base = clustered_unit_vectors(n, d, 30, 11);
  auto queries = clustered_unit_vectors(n + nq, d, 30, 11);
  queries.erase(queries.begin(), queries.begin() + n * d);
  auto keys = keys_from(7000, n);
  std::vector<int64_t> gone;
  for (size_t i = 0; i < n; i += 10) gone.push_back(keys[i]);
  // Exact answer over what stays.
  std::vector<float> kept;
  std::vector<int64_t> kept_keys;
  for (size_t i = 0; i < n; ++i) {
    if (i % 10 == 0) continue;
    kept.insert(kept.end(), base.begin() + i * d, base.begin() + (i + 1) * d);
    kept_keys.push_back(keys[i]);
  }
  std::vector<float> exact_scores(nq * k);
  std::vector<int64_t> exact_keys(nq * k);
  exact_search(kept_keys.size(), kept.data(), kept_keys.data(), d, nq, queries.data(), k,
               exact_scores.data(), exact_keys.data());
  const std::map<std::string, double> floors = {
      {"IVF32,SQ8", 0.9},
      {"IVF32,PQ8", 0.3},
      {"PCA16,IVF32,Flat", 0.4},
      {"IVF32,PQ8,RFlat,k_factor=8", 0.9},
      {"IVF32,PQ8,Refine(SQ8),k_factor=8", 0.85},
      {"IVF32,PQ8,RDisk,k_factor=8", 0.9},
      {"PCA16,IVF32,PQ8,RDisk,k_factor=8", 0.8},
      {"IVF32_HNSW8,PQ8,RDisk,k_factor=8", 0.9},
  };
  for (const char* spec : kIvfFamily) {
    const auto start = std::chrono::steady_clock::now();
    auto index = make_index(spec, d);
    index->train(1024, base.data());  // PQ k-means on all rows would dominate the test's time
    index->add(n, base.data(), keys.data());
    EXPECT_EQ(index->remove(gone.size(), gone.data()), gone.size()) << spec;
    EXPECT_EQ(index->remove(gone.size(), gone.data()), 0u) << spec;
    EXPECT_EQ(index->size(), n - gone.size()) << spec;
    auto got = search(*index, queries, k);
    for (int64_t key : got.keys) {
      EXPECT_TRUE(key < 0 || (key - 7000) % 10 != 0) << spec << " returned removed " << key;
    }
    const double recall = recall_at_k(got.keys, exact_keys, nq, k);
    RecordProperty(std::string("recall_at_10 ") + spec, std::to_string(recall));
    std::printf("recall@10 %-36s %.3f (built in %.1f s)\n", spec, recall,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    EXPECT_GE(recall, floors.at(spec)) << spec;

    auto path = temp_path("ivf_family.idx");
    index->save(path);
    auto back = load_index(path);
    EXPECT_EQ(back->spec(), index->spec());
    EXPECT_EQ(back->size(), n - gone.size()) << spec;
    auto again = search(*back, queries, k);
    EXPECT_EQ(again.keys, got.keys) << spec;
    EXPECT_EQ(again.scores, got.scores) << spec;
    // The loaded index (its lists mapped from the file) accepts writes: a removed key comes back.
    EXPECT_THROW(back->add(1, base.data() + d, keys.data() + 1), Error) << spec;
    back->add(1, base.data(), gone.data());
    EXPECT_EQ(back->remove(1, keys.data() + 1), 1u) << spec;
    EXPECT_EQ(back->size(), n - gone.size()) << spec;
    auto top = search(*back, std::vector<float>(base.begin(), base.begin() + d), k);
    EXPECT_NE(std::find(top.keys.begin(), top.keys.end(), gone[0]), top.keys.end()) << spec;
    back->save(path);
    EXPECT_EQ(load_index(path)->size(), n - gone.size()) << spec;
  }
}

TEST(VectorIndex, RemoveIvfFamily) {
  for (const char* spec :
       {"IVF8,SQ8,nprobe=8", "IVF8,PQ4,nprobe=8", "OPQ4,IVF8,PQ4,nprobe=8",
        "PCA12,IVF8,Flat,nprobe=8", "IVF8,PQ4,RFlat,nprobe=8,k_factor=8",
        "IVF8,PQ4,Refine(SQ8),nprobe=8,k_factor=8", "IVF8,PQ4,RDisk,nprobe=8,k_factor=8"}) {
    check_remove(spec);
  }
}

// Anonymous (heap) resident memory of this process, from /proc/self/status.
size_t rss_anon_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("RssAnon:", 0) == 0) return std::stoull(line.substr(8)) * 1024;
  }
  return 0;
}

// n clustered base rows under keys 1..n, nq held-out queries from the same clusters, and the
// exact top-k keys of each query.
struct RecallProblem {
  std::vector<float> base, queries;
  std::vector<int64_t> keys, exact_keys;
};

RecallProblem recall_problem(size_t n, size_t nq, int d, size_t n_clusters, uint64_t seed, int k) {
  RecallProblem p;
  p.base = clustered_unit_vectors(n, d, n_clusters, seed);
  p.queries = clustered_unit_vectors(n + nq, d, n_clusters, seed);
  p.queries.erase(p.queries.begin(), p.queries.begin() + n * d);
  p.keys = keys_from(1, n);
  std::vector<float> exact_scores(nq * k);
  p.exact_keys.resize(nq * k);
  exact_search(n, p.base.data(), p.keys.data(), d, nq, p.queries.data(), k, exact_scores.data(),
               p.exact_keys.data());
  return p;
}

// The goal of RDisk: PQ codes in RAM, full vectors on disk, recall of exact re-ranking.
TEST(VectorIndex, RDiskRerankingRecallAndMemory) {
  const int d = 64;
  const size_t n = 20000, nq = 200;
  const int k = 10;
  const auto [base, queries, keys, exact_keys] = recall_problem(n, nq, d, 200, 21, k);

  auto plain = make_index("IVF64,PQ16", d);
  const size_t n_train = 4096;  // PQ training on all 20k rows would dominate the test's time
  plain->train(n_train, base.data());
  plain->add(n, base.data(), keys.data());
  const double plain_recall = recall_at_k(search(*plain, queries, k).keys, exact_keys, nq, k);

  auto index = make_index("IVF64,PQ16,RDisk,k_factor=8", d);
  index->train(n_train, base.data());
  index->add(n, base.data(), keys.data());
  const double rdisk_recall = recall_at_k(search(*index, queries, k).keys, exact_keys, nq, k);
  std::printf("recall@10 IVF64,PQ16 %.3f, IVF64,PQ16,RDisk,k_factor=8 %.3f (n=%zu, d=%d)\n",
              plain_recall, rdisk_recall, n, d);
  RecordProperty("recall_at_10_ivf_pq", std::to_string(plain_recall));
  RecordProperty("recall_at_10_rdisk", std::to_string(rdisk_recall));
  EXPECT_GE(rdisk_recall, 0.95);
  EXPECT_LE(plain_recall, rdisk_recall - 0.1);

  auto path = temp_path("rdisk.idx");
  index->save(path);
  const auto vectors = std::filesystem::path(path.string() + ".vectors");
  // Header + sorted key table + rows: exactly n×(8 + 4d) + 32 bytes.
  EXPECT_EQ(std::filesystem::file_size(vectors), 32 + n * (8 + 4 * size_t(d)));
  EXPECT_LT(std::filesystem::file_size(path), n * (16 + 8) + 200000);  // PQ16 codes + ids
  index.reset();
  plain.reset();

  malloc_trim(0);  // return the freed indexes' pages, so that growth counts new allocations
  const size_t before = rss_anon_bytes();
  auto back = load_index(path);
  auto got = search(*back, queries, k);
  const size_t growth = rss_anon_bytes() - std::min(before, rss_anon_bytes());
  std::printf("RssAnon growth over load+search: %zu bytes; vectors file %zu bytes\n", growth,
              size_t(std::filesystem::file_size(vectors)));
  // The vectors (n×d×4 = 5.1 MB) and even the PQ lists are read through mappings.
  EXPECT_LT(growth, n * d * 4 / 4);
  EXPECT_GE(recall_at_k(got.keys, exact_keys, nq, k), 0.95);
}

// Search-time parameters change on a built (and a loaded) index; build-time ones are refused.
TEST(VectorIndex, SearchParamsChangeWithoutRebuilding) {
  const int d = 32;
  const size_t n = 8000, nq = 100;
  const int k = 10;
  const auto [base, queries, keys, exact_keys] = recall_problem(n, nq, d, 100, 5, k);

  auto index = make_index("IVF64,PQ8,RDisk,nprobe=1,k_factor=1", d);
  index->train(n, base.data());
  index->add(n, base.data(), keys.data());
  const double narrow = recall_at_k(search(*index, queries, k).keys, exact_keys, nq, k);
  index->set_search_params("nprobe=64,k_factor=16");
  EXPECT_EQ(index->spec(), "IVF64,PQ8,RDisk,nprobe=64,k_factor=16");
  const double wide = recall_at_k(search(*index, queries, k).keys, exact_keys, nq, k);
  EXPECT_LT(narrow, 0.7);
  EXPECT_GE(wide, 0.99);

  // Refused with nothing changed: build-time, inapplicable, malformed or empty parameters.
  for (const char* bad : {"nlist=8", "efSearch=4", "nprobe=0", "nprobe", "", "nprobe=2,PQ4"}) {
    EXPECT_THROW(index->set_search_params(bad), Error) << bad;
    EXPECT_EQ(index->spec(), "IVF64,PQ8,RDisk,nprobe=64,k_factor=16") << bad;
  }
  EXPECT_THROW(make_index("IVF8,Flat", d)->set_search_params("k_factor=2"), Error);
  EXPECT_THROW(make_index("Flat", d)->set_search_params("nprobe=2"), Error);
  auto hnsw = make_index("HNSW8", d);
  hnsw->set_search_params("efSearch=300");
  EXPECT_EQ(hnsw->spec(), "HNSW8,efConstruction=200,efSearch=300");
  EXPECT_THROW(hnsw->set_search_params("efConstruction=10"), Error);

  // A loaded index takes new parameters too, and a save keeps them.
  auto path = temp_path("search_params.idx");
  index->set_search_params("nprobe=2");
  index->save(path);
  auto back = load_index(path);
  EXPECT_EQ(back->spec(), "IVF64,PQ8,RDisk,nprobe=2,k_factor=16");
  back->set_search_params("nprobe=64");
  EXPECT_EQ(recall_at_k(search(*back, queries, k).keys, exact_keys, nq, k), wide);
}

TEST(VectorIndex, LoadRejectsBadIvfFamilyFiles) {
  const int d = 16;
  const size_t n = 400;
  auto base = clustered_unit_vectors(n, d, 10, 31);
  auto keys = keys_from(0, n);
  auto index = make_index("IVF8,PQ4,RDisk", d);
  index->train(n, base.data());
  index->add(n, base.data(), keys.data());
  auto path = temp_path("rdisk_bad.idx");
  const std::filesystem::path vectors = path.string() + ".vectors";
  index->save(path);
  const std::string good = read_file(path);
  const std::string good_vectors = read_file(vectors);
  auto expect_error = [&](const std::string& needle) {
    try {
      load_index(path);
      FAIL() << "expected an error mentioning " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  write_file_atomic(path, good.substr(0, good.size() - 50));
  expect_error("truncated or corrupt");
  std::string garbled = good;
  for (size_t i = good.size() - 3000; i < good.size() - 2000; ++i) garbled[i] = '\x7f';
  write_file_atomic(path, garbled);  // ids in the lists garbled
  expect_error("its lists hold keys that");
  write_file_atomic(path, good + "xx");
  expect_error("2 unexpected bytes");
  write_file_atomic(path, good);
  write_file_atomic(vectors, good_vectors.substr(0, good_vectors.size() - 4));
  expect_error("truncated or corrupt vectors file");
  std::filesystem::remove(vectors);
  expect_error("cannot open the RDisk vectors file");
  // The vectors of another save (a crash between the two renames) are refused.
  index->save(path);
  write_file_atomic(path, good);
  expect_error("belongs to another save");
}

// A query's neighbours and scores are the same bits alone and in batches of any size, on one
// thread (fewer than 32 queries) or all: dedup shards, one dedup run and the server search their
// listings in different batches and must see the same neighbours.
TEST(VectorIndex, ResultsDoNotDependOnTheBatch) {
  const int d = 32;
  const auto base = clustered_unit_vectors(3000, d, 30, 21);
  const auto queries = clustered_unit_vectors(70, d, 30, 22);
  const auto keys = keys_from(1, 3000);
  for (const std::string spec : {"Flat", "IVF16,Flat,nprobe=4"}) {
    SCOPED_TRACE(spec);
    auto index = make_index(spec, d);
    index->train(3000, base.data());
    index->add(3000, base.data(), keys.data());
    const int k = 10;
    const Results all = search(*index, queries, k);
    for (const size_t batch : {1, 3, 40}) {
      for (size_t start = 0; start < 70; start += batch) {
        const size_t n = std::min(batch, 70 - start);
        const std::vector<float> part(queries.begin() + start * d,
                                      queries.begin() + (start + n) * d);
        const Results got = search(*index, part, k);
        const auto from = static_cast<std::ptrdiff_t>(start * k);
        const auto to = static_cast<std::ptrdiff_t>((start + n) * k);
        EXPECT_EQ(got.keys, std::vector<int64_t>(all.keys.begin() + from, all.keys.begin() + to));
        EXPECT_EQ(got.scores,
                  std::vector<float>(all.scores.begin() + from, all.scores.begin() + to))
            << "batch " << batch << " at " << start;
      }
    }
  }
}

// An index filled from a copy of `trained` with the rows whose key % shards == shard, in key order.
std::unique_ptr<VectorIndex> fill_shard(const std::filesystem::path& trained,
                                        const std::vector<float>& x, int d, int shard, int shards) {
  auto index = load_index(trained);
  for (size_t row = 0; row < x.size() / d; ++row) {
    const auto key = static_cast<int64_t>(row);
    if (key % shards == shard) index->add(1, x.data() + row * d, &key);
  }
  return index;
}

TEST(VectorIndex, MergedShardsEqualOneBuild) {
  const int d = 32;
  const size_t n = 2000;
  const auto x = clustered_unit_vectors(n, d, 40, 11);
  const auto queries = clustered_unit_vectors(50, d, 40, 11);
  for (const std::string spec :
       {"IVF16,Flat", "PCA16,IVF16,PQ4", "IVF16_HNSW8,SQ8", "IVF16,PQ8,RDisk,k_factor=8"}) {
    SCOPED_TRACE(spec);
    const auto trained = temp_path("merge.trained");
    auto untrained = make_index(spec, d);
    untrained->train(n, x.data());
    untrained->save(trained);
    auto one = fill_shard(trained, x, d, 0, 1);
    auto merged = fill_shard(trained, x, d, 0, 3);
    merge_index(*merged, fill_shard(trained, x, d, 2, 3));
    merge_index(*merged, fill_shard(trained, x, d, 1, 3));
    EXPECT_EQ(merged->size(), n);
    const Results a = search(*one, queries, 10);
    const Results b = search(*merged, queries, 10);
    EXPECT_EQ(a.keys, b.keys);
    EXPECT_EQ(a.scores, b.scores);
    const auto one_path = temp_path("merge.one");
    const auto merged_path = temp_path("merge.merged");
    one->save(one_path);
    merged->save(merged_path);
    if (spec.find("RDisk") == std::string::npos) {  // RDisk's header names a random generation
      EXPECT_TRUE(read_file(one_path) == read_file(merged_path));
    }
    EXPECT_EQ(search(*load_index(merged_path), queries, 10).keys, a.keys);
  }
}

TEST(VectorIndex, MergeRefusesIndexesThatDoNotFit) {
  const int d = 16;
  const auto x = clustered_unit_vectors(600, d, 20, 5);
  const auto keys = keys_from(0, 600);
  auto trained_copy = [&](const std::string& spec, size_t rows, const std::string& name) {
    auto index = make_index(spec, d);
    index->train(rows, x.data());
    index->save(temp_path(name));
    return load_index(temp_path(name));
  };
  auto into = trained_copy("IVF8,Flat", 600, "refuse.trained");
  into->add(300, x.data(), keys.data());
  auto twin = [&] {
    return load_index(temp_path("refuse.trained"));  // the same trained index as `into`
  };
  auto shared = twin();
  shared->add(1, x.data() + 299 * d, keys.data() + 299);
  expect_error([&] { merge_index(*into, std::move(shared)); }, {"key 299 is in both"});
  expect_error([&] { merge_index(*into, trained_copy("IVF8,Flat", 400, "refuse.other")); },
               {"trained apart"});
  expect_error([&] { merge_index(*into, trained_copy("IVF4,Flat", 600, "refuse.other")); },
               {"specs differ"});
  EXPECT_EQ(into->size(), 300u);
  for (const std::string spec : {"HNSW8", "Flat", "IVF8,Flat,RFlat"}) {
    auto a = make_index(spec, d);
    a->train(600, x.data());
    auto b = make_index(spec, d);
    b->train(600, x.data());
    expect_error([&] { merge_index(*a, std::move(b)); }, {"only IVF indexes"});
  }
  auto other = twin();
  other->add(300, x.data() + 300 * d, keys.data() + 300);
  merge_index(*into, std::move(other));
  EXPECT_EQ(into->size(), 600u);
}

}  // namespace
}  // namespace doppel
