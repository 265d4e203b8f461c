// MilvusIndex — a VectorIndex whose vectors live in a Milvus collection, reached over Milvus's
// REST API v2 (plain http; https is not supported yet). Chosen by make_index for a spec
//
//   milvus://HOST:PORT/COLLECTION[?name=value&...]
//
// with parameters (defaults in brackets):
//   index=IVF_FLAT|IVF_PQ|HNSW  [IVF_FLAT]  Milvus index type, metric IP
//   field=NAME                  [text_vector] the FLOAT_VECTOR field that search() uses
//   fields=A,B                  a collection with two vector fields (text + image) for
//                               search_hybrid(); the first is the one search() uses
//   nlist=N [1024]  nprobe=N [16]            IVF_FLAT and IVF_PQ
//   m=N [32]                                 IVF_PQ: sub-quantisers (must divide dim);
//                                            HNSW: graph degree M (efConstruction is 200)
//   ef=N [128]                               HNSW search breadth
//   db=NAME [default]  timeout_ms=N [5000]  retries=N [3]  backoff_ms=N [100]
//
// The collection has an INT64 primary key field `key` (autoID false) and one FLOAT_VECTOR field
// of dim() per vector field. The bearer token comes from the environment variable
// DOPPEL_MILVUS_TOKEN (never logged, never saved). The data lives in Milvus: save() writes only a
// small JSON file (format "doppel-milvus", version 1, spec, dim) from which load_index reconnects.
//
// train()/open() wait until Milvus reports the collection loaded. Searches and queries ask for
// Strong consistency, so they see every write acknowledged before them.
//
// Every request is retried with exponential backoff (backoff_ms, 2×backoff_ms, ...) after an
// HTTP 5xx or a connection error / timeout, at most `retries` times. A Milvus reply with a
// non-zero "code", a non-200 status that is not 5xx, or a body that is not the expected JSON is a
// doppel::Error naming the endpoint and Milvus's message. Request shapes: docs/milvus.md.
//
// Not thread-safe for concurrent writes; concurrent const calls are fine (one connection each).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "index/vector_index.h"

namespace doppel {

// A parsed milvus:// spec. parse() is the one place a spec is read.
struct MilvusSpec {
  std::string host;
  int port = 19530;
  std::string collection;
  std::string db = "default";
  std::string index_type = "IVF_FLAT";             // IVF_FLAT, IVF_PQ or HNSW
  std::vector<std::string> fields{"text_vector"};  // 1 or 2 FLOAT_VECTOR fields
  int nlist = 1024;
  int nprobe = 16;
  int m = 32;
  int ef = 128;
  int ef_construction = 200;  // fixed: see vector_index.h on HNSW build quality
  int timeout_ms = 5000;
  int retries = 3;
  int backoff_ms = 100;

  // Error listing the accepted forms on anything it does not understand.
  static MilvusSpec parse(std::string_view spec);
  // Every parameter written out, e.g. "milvus://h:19530/c?db=default&index=HNSW&fields=...".
  std::string canonical() const;
};

// True when spec names a Milvus index (starts with "milvus://").
bool is_milvus_spec(std::string_view spec);

class MilvusIndex final : public VectorIndex {
 public:
  // Connects lazily: nothing is sent until train() (or open()).
  MilvusIndex(const MilvusSpec& spec, int dim);

  // Reconnects to an existing collection: checks it exists with the expected vector fields and
  // dim, and loads it if it is not loaded. Error when it is absent or its schema disagrees.
  void open();

  int dim() const override { return dim_; }
  // Live rows, from a count(*) query.
  size_t size() const override;
  const std::string& spec() const override { return spec_; }
  bool is_trained() const override { return ready_; }

  // Creates the collection, its index and loads it when absent; checks it otherwise. The rows
  // are not used (Milvus trains IVF itself when it builds segment indexes).
  void train(size_t n, const float* x) override;
  // Inserts in requests of at most kMaxRowsPerRequest rows. Single-field collections only (use
  // add_multi for text+image). Error when a key is negative, repeated, or already stored.
  void add(size_t n, const float* x, const int64_t* keys) override;
  // Adds rows with one n×dim() block per vector field, in fields order.
  void add_multi(size_t n, const std::vector<const float*>& per_field, const int64_t* keys);
  // Inserts or replaces (Milvus upsert); same batching and field rules as add_multi.
  void upsert_multi(size_t n, const std::vector<const float*>& per_field, const int64_t* keys);
  size_t remove(size_t n, const int64_t* keys) override;
  // ANN search on the first vector field; scores are inner products.
  void search(size_t n, const float* queries, int k, float* scores, int64_t* keys) const override;
  // Searches both vector fields (text_queries on fields[0], image_queries on fields[1]) and fuses
  // the two rankings with Milvus's RRF ranker (rrf_k, Milvus's default 60). scores receive the
  // fused RRF scores, not inner products. Needs a spec with two fields.
  void search_hybrid(size_t n, const float* text_queries, const float* image_queries, int k,
                     float* scores, int64_t* keys, int rrf_k = 60) const;
  void save(const std::filesystem::path& path) const override;
  // nprobe (IVF_FLAT, IVF_PQ) or ef (HNSW): sent with every later search.
  void set_search_params(std::string_view params) override;

  const MilvusSpec& parsed_spec() const { return parsed_; }

  static constexpr size_t kMaxRowsPerRequest = 100;

 private:
  // POSTs body to /v2/vectordb/<endpoint> with retries; returns the reply's "data" (null when
  // absent). The whole reply is stored in *reply when given.
  nlohmann::json call(std::string_view endpoint, const nlohmann::json& body,
                      nlohmann::json* reply = nullptr) const;
  nlohmann::json base_request() const;  // {dbName, collectionName}
  void load();
  std::vector<int64_t> present_keys(size_t n, const int64_t* keys) const;
  void write_rows(std::string_view endpoint, size_t n, const std::vector<const float*>& per_field,
                  const int64_t* keys);
  nlohmann::json search_params() const;
  void parse_hits(std::string_view endpoint, const nlohmann::json& reply, size_t n, int k,
                  float* scores, int64_t* keys) const;

  MilvusSpec parsed_;
  std::string spec_;
  int dim_;
  std::string token_;
  bool ready_ = false;
};

// Reads the JSON written by MilvusIndex::save (already read into text) and reconnects.
std::unique_ptr<VectorIndex> load_milvus_index(const std::filesystem::path& path,
                                               std::string_view text);

}  // namespace doppel
