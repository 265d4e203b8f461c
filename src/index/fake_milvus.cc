#include "index/fake_milvus.h"

#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <set>
#include <stdexcept>
#include <unordered_map>

namespace doppel {
namespace {

using nlohmann::json;

constexpr size_t kMaxRows = 100;
constexpr const char* kKeyField = "key";

// A Milvus-style error reply, thrown inside a handler.
struct Fault {
  int code;
  std::string message;
};

enum class Type { kString, kInt, kBool, kArray, kObject };

struct Field {
  const char* name;
  Type type;
  bool required = false;
};

bool has_type(const json& v, Type t) {
  switch (t) {
    case Type::kString:
      return v.is_string();
    case Type::kInt:
      return v.is_number_integer();
    case Type::kBool:
      return v.is_boolean();
    case Type::kArray:
      return v.is_array();
    case Type::kObject:
      return v.is_object();
  }
  return false;
}

// Every member of `body` must be listed in `fields` with the right type; required ones present.
void check(const json& body, std::string_view what, std::initializer_list<Field> fields) {
  if (!body.is_object()) throw Fault{1801, std::string(what) + ": body is not a JSON object"};
  for (const auto& [name, value] : body.items()) {
    const Field* f = nullptr;
    for (const Field& candidate : fields) {
      if (name == candidate.name) f = &candidate;
    }
    if (!f) throw Fault{1801, std::string(what) + ": unknown field " + name};
    if (!has_type(value, f->type))
      throw Fault{1801, std::string(what) + ": wrong type for " + name};
  }
  for (const Field& f : fields) {
    if (f.required && !body.contains(f.name)) {
      throw Fault{1802, std::string(what) + ": missing required parameter " + f.name};
    }
  }
}

std::vector<float> vector_of(const json& v, int dim, std::string_view what) {
  if (!v.is_array() || static_cast<int>(v.size()) != dim) {
    throw Fault{1100, std::string(what) + ": vector dim mismatch, expected " + std::to_string(dim)};
  }
  std::vector<float> out;
  out.reserve(v.size());
  for (const json& x : v) {
    if (!x.is_number()) throw Fault{1801, std::string(what) + ": vector element is not a number"};
    out.push_back(x.get<float>());
  }
  return out;
}

// Parses "key in [1,2,3]" (the only filter MilvusIndex sends besides "").
std::vector<int64_t> parse_key_filter(const std::string& filter) {
  const std::string prefix = std::string(kKeyField) + " in [";
  if (!filter.starts_with(prefix) || !filter.ends_with("]")) {
    throw Fault{1100, "unsupported filter: " + filter};
  }
  std::vector<int64_t> keys;
  std::string_view list(filter);
  list = list.substr(prefix.size(), list.size() - prefix.size() - 1);
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    int64_t key = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), key);
    if (ec != std::errc() || end != item.data() + item.size()) {
      throw Fault{1100, "bad key in filter: " + std::string(item)};
    }
    keys.push_back(key);
    if (comma == std::string_view::npos) break;
    list = list.substr(comma + 1);
  }
  return keys;
}

}  // namespace

FakeMilvus::FakeMilvus(std::string token)
    : token_(std::move(token)), server_(std::make_unique<httplib::Server>()) {
  server_->Post(
      R"(/v2/vectordb/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
        const std::string endpoint = req.matches[1];
        json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
        bool malformed = false;
        std::chrono::milliseconds delay{0};
        {
          std::lock_guard lock(mu_);
          requests_.push_back({req.path, req.get_header_value("Authorization"),
                               body.is_discarded() ? json() : body});
          if (fail_next_ > 0) {
            --fail_next_;
            res.status = fail_status_;
            res.set_content("service unavailable", "text/plain");
            return;
          }
          if (malformed_next_ > 0) {
            --malformed_next_;
            malformed = true;
          }
          if (delay_next_ > 0) {
            --delay_next_;
            delay = delay_;
          }
        }
        if (delay.count() > 0) std::this_thread::sleep_for(delay);
        if (malformed) {
          res.set_content("{\"code\": 0, \"data\": [", "application/json");
          return;
        }
        json reply;
        try {
          if (!token_.empty() && req.get_header_value("Authorization") != "Bearer " + token_) {
            throw Fault{1800, "user hasn't authenticated"};
          }
          if (body.is_discarded()) throw Fault{1801, "request body is not JSON"};
          std::lock_guard lock(mu_);
          reply = handle(endpoint, body);
        } catch (const Fault& f) {
          reply = {{"code", f.code}, {"message", f.message}};
        }
        res.set_content(reply.dump(), "application/json");
      });
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ < 0) throw std::runtime_error("FakeMilvus: cannot bind 127.0.0.1");
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

FakeMilvus::~FakeMilvus() {
  server_->stop();
  thread_.join();
}

std::vector<FakeMilvus::Request> FakeMilvus::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void FakeMilvus::clear_requests() {
  std::lock_guard lock(mu_);
  requests_.clear();
}

void FakeMilvus::fail_next(int n, int http_status) {
  std::lock_guard lock(mu_);
  fail_next_ = n;
  fail_status_ = http_status;
}

void FakeMilvus::malformed_next(int n) {
  std::lock_guard lock(mu_);
  malformed_next_ = n;
}

void FakeMilvus::delay_next(int n, std::chrono::milliseconds delay) {
  std::lock_guard lock(mu_);
  delay_next_ = n;
  delay_ = delay;
}

void FakeMilvus::omit_topks(bool omit) {
  std::lock_guard lock(mu_);
  omit_topks_ = omit;
}

size_t FakeMilvus::row_count(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = collections_.find("default/" + name);
  return it == collections_.end() ? 0 : it->second.rows.size();
}

FakeMilvus::Collection& FakeMilvus::collection(const json& body) {
  const std::string name =
      body.value("dbName", "default") + "/" + body["collectionName"].get<std::string>();
  auto it = collections_.find(name);
  if (it == collections_.end()) {
    throw Fault{
        100, "collection not found[collection=" + body["collectionName"].get<std::string>() + "]"};
  }
  return it->second;
}

json FakeMilvus::handle(const std::string& endpoint, const json& body) {
  const json ok_empty = {{"code", 0}, {"data", json::object()}};
  if (endpoint == "collections/has" || endpoint == "collections/describe" ||
      endpoint == "collections/get_load_state" || endpoint == "collections/load") {
    check(body, endpoint, {{"dbName", Type::kString}, {"collectionName", Type::kString, true}});
    if (endpoint == "collections/has") {
      const std::string name =
          body.value("dbName", "default") + "/" + body["collectionName"].get<std::string>();
      return {{"code", 0}, {"data", {{"has", collections_.contains(name)}}}};
    }
    Collection& c = collection(body);
    if (endpoint == "collections/describe") {
      json fields = json::array();
      fields.push_back({{"name", kKeyField},
                        {"type", "Int64"},
                        {"primaryKey", true},
                        {"autoId", false},
                        {"params", json::array()}});
      for (const std::string& f : c.vector_fields) {
        fields.push_back({{"name", f},
                          {"type", "FloatVector"},
                          {"primaryKey", false},
                          {"autoId", false},
                          {"params", {{{"key", "dim"}, {"value", std::to_string(c.dim)}}}}});
      }
      return {{"code", 0},
              {"data",
               {{"collectionName", body["collectionName"]},
                {"autoId", false},
                {"enableDynamicField", false},
                {"fields", fields}}}};
    }
    if (endpoint == "collections/get_load_state") {
      return {{"code", 0},
              {"data", {{"loadState", c.loaded ? "LoadStateLoaded" : "LoadStateNotLoad"}}}};
    }
    for (const std::string& f : c.vector_fields) {
      if (!c.index_types.contains(f)) throw Fault{700, "index not found[field=" + f + "]"};
    }
    c.loaded = true;
    return ok_empty;
  }
  if (endpoint == "collections/create") {
    check(body, endpoint,
          {{"dbName", Type::kString},
           {"collectionName", Type::kString, true},
           {"schema", Type::kObject, true}});
    const json& schema = body["schema"];
    check(schema, "schema",
          {{"autoID", Type::kBool},
           {"enableDynamicField", Type::kBool},
           {"fields", Type::kArray, true}});
    if (schema.value("autoID", false)) throw Fault{1100, "fake supports autoID false only"};
    const std::string name =
        body.value("dbName", "default") + "/" + body["collectionName"].get<std::string>();
    if (collections_.contains(name)) throw Fault{1100, "collection already exists: " + name};
    Collection c;
    bool has_key = false;
    for (const json& f : schema["fields"]) {
      check(f, "schema.fields[]",
            {{"fieldName", Type::kString, true},
             {"dataType", Type::kString, true},
             {"isPrimary", Type::kBool},
             {"elementTypeParams", Type::kObject}});
      const std::string fname = f["fieldName"];
      const std::string type = f["dataType"];
      if (f.value("isPrimary", false)) {
        if (type != "Int64" || fname != kKeyField || has_key) {
          throw Fault{1100, "primary key must be one Int64 field named key"};
        }
        has_key = true;
      } else if (type == "FloatVector") {
        if (!f.contains("elementTypeParams")) throw Fault{1802, "missing elementTypeParams.dim"};
        const json& params = f["elementTypeParams"];
        check(params, "elementTypeParams", {{"dim", Type::kString, true}});
        const int dim = std::stoi(params["dim"].get<std::string>());
        if (dim <= 0 || (c.dim != 0 && dim != c.dim)) throw Fault{1100, "bad dim"};
        c.dim = dim;
        c.vector_fields.push_back(fname);
      } else {
        throw Fault{1100, "fake supports Int64 key and FloatVector fields only, got " + type};
      }
    }
    if (!has_key || c.vector_fields.empty()) {
      throw Fault{1100, "schema needs a primary key and a vector field"};
    }
    collections_[name] = std::move(c);
    return ok_empty;
  }
  if (endpoint == "indexes/create") {
    check(body, endpoint,
          {{"dbName", Type::kString},
           {"collectionName", Type::kString, true},
           {"indexParams", Type::kArray, true}});
    Collection& c = collection(body);
    for (const json& p : body["indexParams"]) {
      check(p, "indexParams[]",
            {{"fieldName", Type::kString, true},
             {"indexName", Type::kString},
             {"metricType", Type::kString, true},
             {"indexType", Type::kString, true},
             {"params", Type::kObject}});
      const std::string field = p["fieldName"];
      const std::string type = p["indexType"];
      if (std::find(c.vector_fields.begin(), c.vector_fields.end(), field) ==
          c.vector_fields.end()) {
        throw Fault{1100, "no vector field " + field};
      }
      if (p["metricType"] != "IP") throw Fault{1100, "fake supports metricType IP only"};
      if (type != "IVF_FLAT" && type != "IVF_PQ" && type != "HNSW") {
        throw Fault{1100, "unsupported index type " + type};
      }
      c.index_types[field] = type;
    }
    return ok_empty;
  }
  if (endpoint == "entities/insert") return write(body, false);
  if (endpoint == "entities/upsert") return write(body, true);
  if (endpoint == "entities/delete") {
    check(body, endpoint,
          {{"dbName", Type::kString},
           {"collectionName", Type::kString, true},
           {"partitionName", Type::kString},
           {"filter", Type::kString, true}});
    Collection& c = collection(body);
    for (int64_t key : parse_key_filter(body["filter"])) c.rows.erase(key);
    return ok_empty;
  }
  if (endpoint == "entities/query") return query(body);
  if (endpoint == "entities/search") return search(body);
  if (endpoint == "entities/hybrid_search") return hybrid_search(body);
  throw Fault{1100, "fake does not implement " + endpoint};
}

json FakeMilvus::write(const json& body, bool upsert) {
  const char* what = upsert ? "entities/upsert" : "entities/insert";
  check(body, what,
        {{"dbName", Type::kString},
         {"collectionName", Type::kString, true},
         {"partitionName", Type::kString},
         {"data", Type::kArray, true}});
  Collection& c = collection(body);
  const json& data = body["data"];
  if (data.size() > kMaxRows) {
    throw Fault{1100, std::string(what) + ": " + std::to_string(data.size()) +
                          " rows in one request, the fake accepts at most 100"};
  }
  std::vector<std::pair<int64_t, std::vector<std::vector<float>>>> rows;
  json ids = json::array();
  for (const json& row : data) {
    if (!row.is_object() || row.size() != c.vector_fields.size() + 1 || !row.contains(kKeyField) ||
        !row[kKeyField].is_number_integer()) {
      throw Fault{1801,
                  std::string(what) + ": each row needs an integer key and every vector field"};
    }
    std::vector<std::vector<float>> vectors;
    for (const std::string& f : c.vector_fields) {
      if (!row.contains(f)) throw Fault{1802, std::string(what) + ": row without field " + f};
      vectors.push_back(vector_of(row[f], c.dim, what));
    }
    rows.emplace_back(row[kKeyField].get<int64_t>(), std::move(vectors));
    ids.push_back(rows.back().first);
  }
  // Like Milvus, insert does not check that keys are new: a repeated key replaces the row here.
  for (auto& [key, vectors] : rows) c.rows[key] = std::move(vectors);
  if (upsert) {
    return {{"code", 0}, {"data", {{"upsertCount", rows.size()}, {"upsertIds", ids}}}};
  }
  return {{"code", 0}, {"data", {{"insertCount", rows.size()}, {"insertIds", ids}}}};
}

json FakeMilvus::query(const json& body) {
  check(body, "entities/query",
        {{"dbName", Type::kString},
         {"collectionName", Type::kString, true},
         {"filter", Type::kString},
         {"outputFields", Type::kArray},
         {"limit", Type::kInt},
         {"consistencyLevel", Type::kString}});
  Collection& c = collection(body);
  if (!c.loaded) throw Fault{101, "collection not loaded"};
  const json fields = body.value("outputFields", json::array());
  const std::string filter = body.value("filter", "");
  if (fields == json::array({"count(*)"})) {
    if (!filter.empty()) throw Fault{1100, "fake counts the whole collection only"};
    return {{"code", 0}, {"data", {{{"count(*)", c.rows.size()}}}}};
  }
  if (fields != json::array({kKeyField})) throw Fault{1100, "fake outputs key or count(*) only"};
  json rows = json::array();
  for (int64_t key : parse_key_filter(filter)) {
    if (c.rows.contains(key)) rows.push_back({{kKeyField, key}});
  }
  if (body.contains("limit") && rows.size() > body["limit"].get<size_t>()) {
    rows.erase(rows.begin() + body["limit"].get<int64_t>(), rows.end());
  }
  return {{"code", 0}, {"data", rows}};
}

std::vector<std::vector<std::pair<float, int64_t>>> FakeMilvus::brute_force(const Collection& c,
                                                                            size_t field,
                                                                            const json& data,
                                                                            size_t limit) const {
  std::vector<std::vector<std::pair<float, int64_t>>> out;
  for (const json& q : data) {
    const std::vector<float> query = vector_of(q, c.dim, "search data");
    std::vector<std::pair<float, int64_t>> all;
    for (const auto& [key, vectors] : c.rows) {
      float dot = 0.0f;
      for (int j = 0; j < c.dim; ++j) dot += query[j] * vectors[field][j];
      all.emplace_back(dot, key);
    }
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    if (all.size() > limit) all.resize(limit);
    out.push_back(std::move(all));
  }
  return out;
}

json FakeMilvus::search(const json& body) {
  check(body, "entities/search",
        {{"dbName", Type::kString},
         {"collectionName", Type::kString, true},
         {"data", Type::kArray, true},
         {"annsField", Type::kString},
         {"limit", Type::kInt},
         {"outputFields", Type::kArray},
         {"searchParams", Type::kObject},
         {"consistencyLevel", Type::kString}});
  Collection& c = collection(body);
  if (!c.loaded) throw Fault{101, "collection not loaded"};
  const std::string field = body.value("annsField", c.vector_fields[0]);
  auto it = std::find(c.vector_fields.begin(), c.vector_fields.end(), field);
  if (it == c.vector_fields.end()) throw Fault{1100, "no vector field " + field};
  if (body.contains("searchParams")) {
    check(body["searchParams"], "searchParams",
          {{"metricType", Type::kString}, {"params", Type::kObject}});
    if (body["searchParams"].value("metricType", "IP") != "IP")
      throw Fault{1100, "metric type mismatch"};
  }
  const int64_t limit = body.value("limit", 100);
  if (limit <= 0 || limit > 16384) throw Fault{1100, "limit out of range"};
  json hits = json::array(), topks = json::array();
  for (const auto& results : brute_force(c, static_cast<size_t>(it - c.vector_fields.begin()),
                                         body["data"], static_cast<size_t>(limit))) {
    for (const auto& [score, key] : results)
      hits.push_back({{kKeyField, key}, {"distance", score}});
    topks.push_back(results.size());
  }
  json reply = {{"code", 0}, {"cost", 0}, {"data", hits}};
  if (!omit_topks_) reply["topks"] = topks;
  return reply;
}

json FakeMilvus::hybrid_search(const json& body) {
  check(body, "entities/hybrid_search",
        {{"dbName", Type::kString},
         {"collectionName", Type::kString, true},
         {"search", Type::kArray, true},
         {"rerank", Type::kObject, true},
         {"limit", Type::kInt, true},
         {"outputFields", Type::kArray},
         {"consistencyLevel", Type::kString}});
  Collection& c = collection(body);
  if (!c.loaded) throw Fault{101, "collection not loaded"};
  const json& rerank = body["rerank"];
  check(rerank, "rerank", {{"strategy", Type::kString, true}, {"params", Type::kObject}});
  if (rerank["strategy"] != "rrf") throw Fault{1100, "fake supports the rrf ranker only"};
  const json params = rerank.value("params", json::object());
  check(params, "rerank.params", {{"k", Type::kInt}});
  const double rrf_k = params.value("k", 60);
  size_t nq = 0;
  std::vector<std::vector<std::vector<std::pair<float, int64_t>>>> per_search;
  for (const json& sub : body["search"]) {
    check(sub, "search[]",
          {{"data", Type::kArray, true},
           {"annsField", Type::kString, true},
           {"metricType", Type::kString},
           {"limit", Type::kInt, true},
           {"params", Type::kObject}});
    const std::string field = sub["annsField"];
    auto it = std::find(c.vector_fields.begin(), c.vector_fields.end(), field);
    if (it == c.vector_fields.end()) throw Fault{1100, "no vector field " + field};
    if (!per_search.empty() && sub["data"].size() != nq) {
      throw Fault{1100, "sub-searches have different numbers of queries"};
    }
    nq = sub["data"].size();
    per_search.push_back(brute_force(c, static_cast<size_t>(it - c.vector_fields.begin()),
                                     sub["data"], sub["limit"].get<size_t>()));
  }
  const size_t limit = body["limit"].get<size_t>();
  json hits = json::array(), topks = json::array();
  for (size_t q = 0; q < nq; ++q) {
    // RRF: score(key) = sum over sub-searches of 1 / (k + rank), rank counted from 1.
    std::unordered_map<int64_t, double> fused;
    for (const auto& results : per_search) {
      for (size_t r = 0; r < results[q].size(); ++r) {
        fused[results[q][r].second] += 1.0 / (rrf_k + static_cast<double>(r + 1));
      }
    }
    std::vector<std::pair<double, int64_t>> ranked;
    for (const auto& [key, score] : fused) ranked.emplace_back(score, key);
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    if (ranked.size() > limit) ranked.resize(limit);
    for (const auto& [score, key] : ranked) hits.push_back({{kKeyField, key}, {"distance", score}});
    topks.push_back(ranked.size());
  }
  json reply = {{"code", 0}, {"cost", 0}, {"data", hits}};
  if (!omit_topks_) reply["topks"] = topks;
  return reply;
}

}  // namespace doppel
