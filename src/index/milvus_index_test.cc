// MilvusIndex against FakeMilvus (an in-process fake of Milvus's REST API v2): no real Milvus
// server is involved anywhere in these tests.
#include "index/milvus_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "index/exact_search.h"
#include "index/fake_milvus.h"
#include "index/vector_index.h"
#include "util/error.h"

namespace doppel {
namespace {

using ::testing::HasSubstr;

std::vector<float> random_unit_vectors(size_t n, int d, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(n * d);
  for (size_t i = 0; i < n; ++i) {
    float norm = 0;
    for (int j = 0; j < d; ++j) {
      x[i * d + j] = g(rng);
      norm += x[i * d + j] * x[i * d + j];
    }
    for (int j = 0; j < d; ++j) x[i * d + j] /= std::sqrt(norm);
  }
  return x;
}

std::vector<int64_t> keys_from(int64_t first, size_t n) {
  std::vector<int64_t> keys(n);
  std::iota(keys.begin(), keys.end(), first);
  return keys;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// A spec for the fake with fast retries and a short timeout.
std::string spec_for(const FakeMilvus& fake, const std::string& extra = "") {
  return "milvus://127.0.0.1:" + std::to_string(fake.port()) +
         "/doppel?index=IVF_FLAT&nlist=16&timeout_ms=1000&retries=3&backoff_ms=1" + extra;
}

size_t count_requests(const FakeMilvus& fake, const std::string& endpoint) {
  size_t n = 0;
  for (const auto& r : fake.requests()) n += r.path == "/v2/vectordb/" + endpoint;
  return n;
}

// ---- spec parsing -------------------------------------------------------------------------

TEST(MilvusSpec, ParsesEveryParameterAndDefaults) {
  const MilvusSpec s = MilvusSpec::parse(
      "milvus://db.example:19530/listings?index=IVF_PQ&field=title_vec&nlist=2048&m=16&"
      "nprobe=32&timeout_ms=2500&retries=5&db=shop&backoff_ms=7");
  EXPECT_EQ(s.host, "db.example");
  EXPECT_EQ(s.port, 19530);
  EXPECT_EQ(s.collection, "listings");
  EXPECT_EQ(s.db, "shop");
  EXPECT_EQ(s.index_type, "IVF_PQ");
  EXPECT_EQ(s.fields, std::vector<std::string>{"title_vec"});
  EXPECT_EQ(s.nlist, 2048);
  EXPECT_EQ(s.m, 16);
  EXPECT_EQ(s.nprobe, 32);
  EXPECT_EQ(s.timeout_ms, 2500);
  EXPECT_EQ(s.retries, 5);
  EXPECT_EQ(s.backoff_ms, 7);

  const MilvusSpec d = MilvusSpec::parse("milvus://127.0.0.1:19530/doppel");
  EXPECT_EQ(d.index_type, "IVF_FLAT");
  EXPECT_EQ(d.fields, std::vector<std::string>{"text_vector"});
  EXPECT_EQ(d.db, "default");
  EXPECT_EQ(d.canonical(),
            "milvus://127.0.0.1:19530/doppel?db=default&index=IVF_FLAT&fields=text_vector&"
            "nlist=1024&nprobe=16&timeout_ms=5000&retries=3&backoff_ms=100");
  // The canonical form parses back to itself.
  EXPECT_EQ(MilvusSpec::parse(d.canonical()).canonical(), d.canonical());

  const MilvusSpec h =
      MilvusSpec::parse("milvus://h:1/c?index=HNSW&m=48&ef=64&fields=text_vector,image_vector");
  EXPECT_EQ(h.m, 48);
  EXPECT_EQ(h.ef, 64);
  EXPECT_EQ(h.fields, (std::vector<std::string>{"text_vector", "image_vector"}));
  EXPECT_EQ(MilvusSpec::parse(h.canonical()).canonical(), h.canonical());
}

TEST(MilvusSpec, RejectsBadSpecsListingAcceptedForms) {
  for (const char* bad : {
           "milvus://",                                  // no host
           "milvus://host/collection",                   // no port
           "milvus://host:0/c",                          // port out of range
           "milvus://host:99999/c",                      // port out of range
           "milvus://host:19530",                        // no collection
           "milvus://host:19530/",                       // empty collection
           "milvus://host:19530/bad-name",               // collection name
           "milvus://host:19530/c?index=DISKANN",        // unknown index
           "milvus://host:19530/c?nlist=0",              // not positive
           "milvus://host:19530/c?nlist=12x",            // not a number
           "milvus://host:19530/c?color=red",            // unknown parameter
           "milvus://host:19530/c?nlist",                // no value
           "milvus://host:19530/c?nlist=1&nlist=2",      // repeated
           "milvus://host:19530/c?index=HNSW&nprobe=4",  // does not apply
           "milvus://host:19530/c?ef=4",                 // HNSW only
           "milvus://host:19530/c?m=8",                  // not for IVF_FLAT
           "milvus://host:19530/c?fields=a,b,c",         // at most two
           "milvus://host:19530/c?fields=a,a",           // distinct
           "milvus://host:19530/c?field=key",            // the primary key's name
           "milvus://host:19530/c?field=a&fields=a,b",   // both
       }) {
    const std::string message = error_of([&] { MilvusSpec::parse(bad); });
    EXPECT_THAT(message, HasSubstr("accepted form")) << bad;
    EXPECT_THAT(message, HasSubstr(bad)) << bad;
  }
}

TEST(MilvusSpec, MakeIndexDispatchesOnScheme) {
  auto index = make_index("milvus://127.0.0.1:1/doppel?index=HNSW", 8);
  EXPECT_NE(dynamic_cast<MilvusIndex*>(index.get()), nullptr);
  EXPECT_FALSE(index->is_trained());
  EXPECT_EQ(index->spec(), MilvusSpec::parse("milvus://127.0.0.1:1/doppel?index=HNSW").canonical());
  EXPECT_EQ(dynamic_cast<MilvusIndex*>(make_index("Flat", 8).get()), nullptr);
  EXPECT_THAT(error_of([] { make_index("milvus://h:1/c?index=IVF_PQ&m=3", 8); }),
              HasSubstr("divide"));
  EXPECT_THROW(make_index("milvus://h:1/c", 0), Error);
}

// ---- against the fake ---------------------------------------------------------------------

struct Results {
  std::vector<float> scores;
  std::vector<int64_t> keys;
};

Results search(const VectorIndex& index, const std::vector<float>& q, int k) {
  const size_t n = q.size() / index.dim();
  Results r{std::vector<float>(n * k), std::vector<int64_t>(n * k)};
  index.search(n, q.data(), k, r.scores.data(), r.keys.data());
  return r;
}

Results exact(const std::vector<float>& base, const std::vector<int64_t>& keys, int d,
              const std::vector<float>& q, int k) {
  const size_t n = q.size() / d;
  Results r{std::vector<float>(n * k), std::vector<int64_t>(n * k)};
  exact_search(keys.size(), base.data(), keys.data(), d, n, q.data(), k, r.scores.data(),
               r.keys.data());
  return r;
}

void expect_same(const Results& got, const Results& want) {
  ASSERT_EQ(got.keys, want.keys);
  for (size_t i = 0; i < got.scores.size(); ++i) {
    if (std::isinf(want.scores[i])) {
      EXPECT_TRUE(std::isinf(got.scores[i]) && got.scores[i] < 0) << i;
    } else {
      EXPECT_NEAR(got.scores[i], want.scores[i], 1e-6) << i;
    }
  }
}

TEST(MilvusIndex, CreateInsertSearchRemoveMatchExactSearch) {
  FakeMilvus fake;
  const int d = 16;
  const size_t n = 500;
  auto base = random_unit_vectors(n, d, 1);
  auto keys = keys_from(1000, n);
  auto index = make_index(spec_for(fake), d);
  index->train(0, nullptr);
  EXPECT_TRUE(index->is_trained());
  EXPECT_EQ(count_requests(fake, "collections/create"), 1u);
  EXPECT_EQ(count_requests(fake, "indexes/create"), 1u);
  EXPECT_EQ(count_requests(fake, "collections/load"), 1u);
  index->add(n, base.data(), keys.data());
  EXPECT_EQ(index->size(), n);
  EXPECT_EQ(fake.row_count("doppel"), n);

  const auto queries = random_unit_vectors(20, d, 2);
  expect_same(search(*index, queries, 10), exact(base, keys, d, queries, 10));
  EXPECT_EQ(count_requests(fake, "entities/search"), 1u);  // one request for the batch
  for (const auto& r : fake.requests()) {
    if (r.path.ends_with("/search") || r.path.ends_with("/query")) {
      EXPECT_EQ(r.body["consistencyLevel"], "Strong") << r.path;
    }
  }
  // A Milvus without "topks" in its replies is asked one query at a time.
  fake.omit_topks(true);
  expect_same(search(*index, queries, 10), exact(base, keys, d, queries, 10));
  EXPECT_EQ(count_requests(fake, "entities/search"), 1u + 1u + 20u);
  fake.omit_topks(false);

  // Remove every third key, some absent keys too.
  std::vector<int64_t> gone, kept_keys;
  std::vector<float> kept;
  for (size_t i = 0; i < n; ++i) {
    if (i % 3 == 0) {
      gone.push_back(keys[i]);
    } else {
      kept_keys.push_back(keys[i]);
      kept.insert(kept.end(), base.begin() + i * d, base.begin() + (i + 1) * d);
    }
  }
  const size_t n_gone = gone.size();
  gone.push_back(5);
  gone.push_back(99999);
  EXPECT_EQ(index->remove(gone.size(), gone.data()), n_gone);
  EXPECT_EQ(index->size(), n - n_gone);
  expect_same(search(*index, queries, 10), exact(kept, kept_keys, d, queries, 10));
  EXPECT_EQ(index->remove(gone.size(), gone.data()), 0u);

  // Present keys, negative keys and repeats are refused before anything is sent.
  EXPECT_THAT(error_of([&] { index->add(1, base.data(), &kept_keys[0]); }),
              HasSubstr("already present"));
  const int64_t negative = -4;
  EXPECT_THAT(error_of([&] { index->add(1, base.data(), &negative); }), HasSubstr("negative"));
  const int64_t twice[] = {7, 7};
  EXPECT_THAT(error_of([&] { index->add(2, base.data(), twice); }), HasSubstr("twice"));
  EXPECT_EQ(index->size(), n - n_gone);
}

TEST(MilvusIndex, SearchParamsAreSentWithLaterSearches) {
  FakeMilvus fake;
  const int d = 8;
  auto index = make_index(spec_for(fake), d);
  index->train(0, nullptr);
  index->set_search_params("nprobe=64");
  EXPECT_THAT(index->spec(), HasSubstr("&nprobe=64&"));
  const auto queries = random_unit_vectors(1, d, 2);
  search(*index, queries, 5);
  ASSERT_EQ(count_requests(fake, "entities/search"), 1u);
  for (const auto& r : fake.requests()) {
    if (r.path.ends_with("/search")) {
      EXPECT_EQ(r.body["searchParams"]["params"]["nprobe"], 64);
    }
  }
  for (const char* bad : {"ef=10", "nlist=4", "nprobe=0", ""}) {
    EXPECT_THROW(index->set_search_params(bad), Error) << bad;
    EXPECT_THAT(index->spec(), HasSubstr("&nprobe=64&")) << bad;
  }
  auto hnsw = make_index("milvus://127.0.0.1:" + std::to_string(fake.port()) + "/c?index=HNSW", d);
  hnsw->set_search_params("ef=300");
  EXPECT_THAT(hnsw->spec(), HasSubstr("&ef=300&"));
}

TEST(MilvusIndex, PadsWhenFewerThanKAndRejectsUseBeforeTrain) {
  FakeMilvus fake;
  auto index = make_index(spec_for(fake), 4);
  const float v[] = {1, 0, 0, 0, 0, 1, 0, 0};
  const int64_t keys[] = {3, 4};
  EXPECT_THAT(error_of([&] { index->add(2, v, keys); }), HasSubstr("before train"));
  index->train(0, nullptr);
  index->add(2, v, keys);
  float scores[5];
  int64_t found[5];
  index->search(1, v, 5, scores, found);
  EXPECT_EQ(found[0], 3);
  EXPECT_EQ(found[1], 4);
  EXPECT_FLOAT_EQ(scores[0], 1.0f);
  for (int i = 2; i < 5; ++i) {
    EXPECT_EQ(found[i], -1);
    EXPECT_EQ(scores[i], -std::numeric_limits<float>::infinity());
  }
  // train() on an existing collection reconnects instead of creating it again.
  auto again = make_index(spec_for(fake), 4);
  again->train(0, nullptr);
  EXPECT_EQ(count_requests(fake, "collections/create"), 1u);
  EXPECT_EQ(again->size(), 2u);
  // A dim that disagrees with the stored collection is an error.
  EXPECT_THAT(error_of([&] { make_index(spec_for(fake), 8)->train(0, nullptr); }),
              HasSubstr("dim 8"));
}

TEST(MilvusIndex, InsertsAtMostHundredRowsPerRequest) {
  FakeMilvus fake;
  const int d = 8;
  const size_t n = 345;
  auto base = random_unit_vectors(n, d, 3);
  auto keys = keys_from(0, n);
  auto index = make_index(spec_for(fake), d);
  index->train(0, nullptr);
  fake.clear_requests();
  index->add(n, base.data(), keys.data());
  size_t inserts = 0, rows = 0;
  for (const auto& r : fake.requests()) {
    if (r.path == "/v2/vectordb/entities/insert") {
      ++inserts;
      EXPECT_LE(r.body["data"].size(), 100u);
      rows += r.body["data"].size();
    }
    if (r.path == "/v2/vectordb/entities/query") {
      EXPECT_LE(r.body["limit"].get<size_t>(), 100u);
    }
  }
  EXPECT_EQ(inserts, 4u);
  EXPECT_EQ(rows, n);
  fake.clear_requests();
  EXPECT_EQ(index->remove(n, keys.data()), n);
  EXPECT_EQ(count_requests(fake, "entities/delete"), 4u);
  EXPECT_EQ(index->size(), 0u);
}

TEST(MilvusIndex, SendsBearerTokenFromEnvironment) {
  FakeMilvus fake("s3cret");
  ASSERT_EQ(setenv("DOPPEL_MILVUS_TOKEN", "s3cret", 1), 0);
  auto index = make_index(spec_for(fake), 4);
  ASSERT_EQ(unsetenv("DOPPEL_MILVUS_TOKEN"), 0);
  index->train(0, nullptr);
  for (const auto& r : fake.requests()) EXPECT_EQ(r.authorization, "Bearer s3cret") << r.path;
  // Without the token the fake answers Milvus's "not authenticated" code, naming the endpoint.
  auto anonymous = make_index(spec_for(fake), 4);
  const std::string message = error_of([&] { anonymous->train(0, nullptr); });
  EXPECT_THAT(message, HasSubstr("collections/has"));
  EXPECT_THAT(message, HasSubstr("1800"));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("s3cret")));
}

TEST(MilvusIndex, RetriesServerErrorsThenSucceeds) {
  FakeMilvus fake;
  auto index = make_index(spec_for(fake), 4);
  fake.fail_next(2, 503);
  index->train(0, nullptr);
  EXPECT_TRUE(index->is_trained());
  EXPECT_EQ(count_requests(fake, "collections/has"), 3u);  // 2 × 503, then success
}

TEST(MilvusIndex, PersistentServerErrorsFailAfterRetries) {
  FakeMilvus fake;
  auto index = make_index(spec_for(fake), 4);  // retries=3
  fake.fail_next(100, 503);
  const std::string message = error_of([&] { index->train(0, nullptr); });
  EXPECT_THAT(message, HasSubstr("collections/has"));
  EXPECT_THAT(message, HasSubstr("4 attempts"));
  EXPECT_THAT(message, HasSubstr("503"));
  EXPECT_EQ(count_requests(fake, "collections/has"), 4u);
}

TEST(MilvusIndex, ConnectionRefusedIsRetriedThenAnError) {
  int port = 0;
  {
    FakeMilvus gone;
    port = gone.port();
  }
  auto index = make_index(
      "milvus://127.0.0.1:" + std::to_string(port) + "/doppel?retries=2&backoff_ms=1", 4);
  EXPECT_THAT(error_of([&] { index->train(0, nullptr); }), HasSubstr("3 attempts"));
}

TEST(MilvusIndex, MalformedResponseIsAnErrorNamingTheEndpoint) {
  FakeMilvus fake;
  auto index = make_index(spec_for(fake), 4);
  index->train(0, nullptr);
  fake.malformed_next(1);
  const float q[] = {1, 0, 0, 0};
  float s[1];
  int64_t k[1];
  const std::string message = error_of([&] { index->search(1, q, 1, s, k); });
  EXPECT_THAT(message, HasSubstr("entities/search"));
  EXPECT_THAT(message, HasSubstr("malformed"));
}

TEST(MilvusIndex, MilvusErrorCodeIsAnErrorWithItsMessage) {
  FakeMilvus fake;
  auto index = make_index(spec_for(fake), 4);
  // No collection yet: load_index-style open() reports it; search before train is refused.
  auto* milvus = dynamic_cast<MilvusIndex*>(index.get());
  EXPECT_THAT(error_of([&] { milvus->open(); }), HasSubstr("does not exist"));
  index->train(0, nullptr);
  // A hybrid search on a one-field collection is refused locally.
  const float q[] = {1, 0, 0, 0};
  float s[1];
  int64_t k[1];
  EXPECT_THAT(error_of([&] { milvus->search_hybrid(1, q, q, 1, s, k); }),
              HasSubstr("fields=TEXT,IMAGE"));
}

TEST(MilvusIndex, TimeoutIsAnError) {
  FakeMilvus fake;
  auto index = make_index("milvus://127.0.0.1:" + std::to_string(fake.port()) +
                              "/doppel?timeout_ms=100&retries=1&backoff_ms=1",
                          4);
  fake.delay_next(2, std::chrono::milliseconds(400));
  const auto start = std::chrono::steady_clock::now();
  const std::string message = error_of([&] { index->train(0, nullptr); });
  EXPECT_THAT(message, HasSubstr("2 attempts"));
  EXPECT_THAT(message, HasSubstr("collections/has"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(MilvusIndex, SaveWritesSmallJsonAndLoadIndexReconnects) {
  FakeMilvus fake;
  const int d = 8;
  auto base = random_unit_vectors(50, d, 4);
  auto keys = keys_from(10, 50);
  auto index = make_index(spec_for(fake), d);
  index->train(0, nullptr);
  index->add(50, base.data(), keys.data());
  const auto path = std::filesystem::temp_directory_path() / "doppel_milvus_test.index";
  index->save(path);
  EXPECT_LT(std::filesystem::file_size(path), 1024u);
  auto loaded = load_index(path);
  EXPECT_EQ(loaded->spec(), index->spec());
  EXPECT_EQ(loaded->dim(), d);
  EXPECT_TRUE(loaded->is_trained());
  EXPECT_EQ(loaded->size(), 50u);
  const auto queries = random_unit_vectors(5, d, 5);
  expect_same(search(*loaded, queries, 7), exact(base, keys, d, queries, 7));

  // A JSON file of another format or version is refused with the path.
  std::ofstream(path) << R"({"format": "doppel-milvus", "version": 2, "spec": "x", "dim": 8})";
  EXPECT_THAT(error_of([&] { load_index(path); }), HasSubstr("version 2"));
  std::filesystem::remove(path);
}

TEST(MilvusIndex, HybridSearchFusesTextAndImageRankingsWithRrf) {
  FakeMilvus fake;
  const int d = 8;
  const size_t n = 200;
  auto text = random_unit_vectors(n, d, 6);
  auto image = random_unit_vectors(n, d, 7);
  auto keys = keys_from(0, n);
  MilvusIndex index(MilvusSpec::parse(spec_for(fake, "&fields=text_vector,image_vector")), d);
  index.train(0, nullptr);
  EXPECT_THAT(error_of([&] { index.add(n, text.data(), keys.data()); }), HasSubstr("add_multi"));
  index.add_multi(n, {text.data(), image.data()}, keys.data());
  EXPECT_EQ(index.size(), n);

  const int k = 10;
  const size_t nq = 3;
  auto tq = random_unit_vectors(nq, d, 8);
  auto iq = random_unit_vectors(nq, d, 9);
  std::vector<float> scores(nq * k);
  std::vector<int64_t> found(nq * k);
  index.search_hybrid(nq, tq.data(), iq.data(), k, scores.data(), found.data());

  // Reference: RRF (k=60) over the exact top-k of each field.
  const Results by_text = exact(text, keys, d, tq, k), by_image = exact(image, keys, d, iq, k);
  for (size_t q = 0; q < nq; ++q) {
    std::map<int64_t, double> fused;
    for (int r = 0; r < k; ++r) {
      fused[by_text.keys[q * k + r]] += 1.0 / (60 + r + 1);
      fused[by_image.keys[q * k + r]] += 1.0 / (60 + r + 1);
    }
    std::vector<std::pair<double, int64_t>> ranked;
    for (auto [key, s] : fused) ranked.emplace_back(-s, key);
    std::sort(ranked.begin(), ranked.end());
    for (int r = 0; r < k; ++r) {
      EXPECT_EQ(found[q * k + r], ranked[r].second) << q << "," << r;
      EXPECT_NEAR(scores[q * k + r], -ranked[r].first, 1e-6);
    }
    // The best text match and the best image match are both among the fused results.
    const std::set<int64_t> got(found.begin() + q * k, found.begin() + (q + 1) * k);
    EXPECT_TRUE(got.contains(by_text.keys[q * k]));
    EXPECT_TRUE(got.contains(by_image.keys[q * k]));
  }
  const auto requests = fake.requests();
  const auto& last = requests.back();
  EXPECT_EQ(last.path, "/v2/vectordb/entities/hybrid_search");
  EXPECT_EQ(last.body["rerank"]["strategy"], "rrf");
  EXPECT_EQ(last.body["search"][1]["annsField"], "image_vector");

  // Upsert replaces the image vector of key 0 with its text vector.
  index.upsert_multi(1, {text.data(), text.data()}, keys.data());
  EXPECT_EQ(index.size(), n);
}

// The fake itself: strict about what it accepts, with Milvus-style codes.
TEST(FakeMilvus, RejectsMalformedRequestsWithMilvusCodes) {
  FakeMilvus fake;
  httplib::Client client("127.0.0.1", fake.port());
  auto post = [&](const std::string& endpoint, const nlohmann::json& body) {
    auto res = client.Post("/v2/vectordb/" + endpoint, body.dump(), "application/json");
    EXPECT_TRUE(res);
    return res ? nlohmann::json::parse(res->body) : nlohmann::json();
  };
  EXPECT_EQ(post("collections/has", {{"dbName", "default"}})["code"], 1802);
  EXPECT_EQ(post("collections/has", {{"collectionName", 5}})["code"], 1801);
  EXPECT_EQ(post("collections/has", {{"collectionName", "c"}, {"colour", "red"}})["code"], 1801);
  EXPECT_EQ(post("entities/search", {{"collectionName", "c"}, {"data", {{1.0}}}})["code"], 100);

  auto index = make_index(spec_for(fake), 2);
  index->train(0, nullptr);
  nlohmann::json rows = nlohmann::json::array();
  for (int i = 0; i < 101; ++i) rows.push_back({{"key", i}, {"text_vector", {1.0, 0.0}}});
  const auto too_many = post("entities/insert", {{"collectionName", "doppel"}, {"data", rows}});
  EXPECT_EQ(too_many["code"], 1100);
  EXPECT_THAT(too_many["message"].get<std::string>(), HasSubstr("101 rows"));
  const nlohmann::json wrong_dim = {{{"key", 1}, {"text_vector", {1.0, 0.0, 0.0}}}};
  EXPECT_EQ(post("entities/insert", {{"collectionName", "doppel"}, {"data", wrong_dim}})["code"],
            1100);
  EXPECT_EQ(fake.row_count("doppel"), 0u);
}

}  // namespace
}  // namespace doppel
