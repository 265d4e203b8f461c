// FakeMilvus — an in-process stand-in for a Milvus server's REST API v2, for tests only (target
// doppel_fake_milvus; never linked into doppel itself). It listens on 127.0.0.1 on a free port
// and answers exactly the requests MilvusIndex sends (docs/milvus.md lists them) with Milvus's
// reply shapes, keeping the collections in memory and searching them by brute-force inner
// product (ties broken by the smaller key, like exact_search).
//
// It is stricter than Milvus on purpose: an unknown or mistyped body field, a missing
// collectionName, a vector of the wrong dim or an insert of more than 100 rows is answered with
// HTTP 200 and a Milvus-style error {"code": N, "message": ...}:
//   1800 not authenticated (a token was required and the bearer header did not carry it),
//   1801 a body field is unknown or has the wrong JSON type, 1802 a required field is missing,
//   1100 an invalid parameter (dim, row count, filter, index type...), 100 no such collection,
//   101 collection not loaded, 700 no index on a vector field at load time.
// Every request is recorded, and faults can be injected: the next N requests answered with HTTP
// 503, with a body that is not JSON, or after a delay (to exceed a client timeout).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace httplib {
class Server;
}

namespace doppel {

class FakeMilvus {
 public:
  // Starts serving before returning. token: when non-empty, every request must carry
  // "Authorization: Bearer <token>".
  explicit FakeMilvus(std::string token = "");
  ~FakeMilvus();
  FakeMilvus(const FakeMilvus&) = delete;
  FakeMilvus& operator=(const FakeMilvus&) = delete;

  int port() const { return port_; }

  struct Request {
    std::string path;           // e.g. "/v2/vectordb/entities/insert"
    std::string authorization;  // the Authorization header, "" when absent
    nlohmann::json body;        // null when the body was not JSON
  };
  std::vector<Request> requests() const;
  void clear_requests();

  // Fault injection; each counts down one per request received.
  void fail_next(int n, int http_status = 503);
  void malformed_next(int n);
  void delay_next(int n, std::chrono::milliseconds delay);
  // Search replies without "topks", as older Milvus versions send them.
  void omit_topks(bool omit);

  // Rows stored in a collection of the default database (0 when absent).
  size_t row_count(const std::string& collection) const;

 private:
  struct Collection {
    std::vector<std::string> vector_fields;
    int dim = 0;
    std::map<std::string, std::string> index_types;  // vector field -> index type
    bool loaded = false;
    // key -> one vector per vector field, in vector_fields order
    std::map<int64_t, std::vector<std::vector<float>>> rows;
  };

  nlohmann::json handle(const std::string& endpoint, const nlohmann::json& body);
  Collection& collection(const nlohmann::json& body);
  nlohmann::json write(const nlohmann::json& body, bool upsert);
  nlohmann::json search(const nlohmann::json& body);
  nlohmann::json hybrid_search(const nlohmann::json& body);
  nlohmann::json query(const nlohmann::json& body);
  // Per query, the best `limit` (score, key) of field `field` by inner product.
  std::vector<std::vector<std::pair<float, int64_t>>> brute_force(const Collection& c, size_t field,
                                                                  const nlohmann::json& data,
                                                                  size_t limit) const;

  std::string token_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;

  mutable std::mutex mu_;  // guards everything below
  std::vector<Request> requests_;
  std::map<std::string, Collection> collections_;  // "db/collection" -> collection
  int fail_next_ = 0;
  int fail_status_ = 503;
  int malformed_next_ = 0;
  int delay_next_ = 0;
  std::chrono::milliseconds delay_{0};
  bool omit_topks_ = false;
};

}  // namespace doppel
