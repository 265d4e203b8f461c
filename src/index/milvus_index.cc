// MilvusIndex over Milvus REST API v2. Every request and reply shape used here is listed, with
// where it was checked, in docs/milvus.md.
#include "index/milvus_index.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <set>
#include <thread>
#include <unordered_set>

#include "util/error.h"
#include "util/files.h"

namespace doppel {
namespace {

using nlohmann::json;

constexpr std::string_view kScheme = "milvus://";
constexpr const char* kSaveFormat = "doppel-milvus";
constexpr int kSaveVersion = 1;
constexpr const char* kKeyField = "key";
// Reads see every write acknowledged before them (Milvus's default for a collection is Bounded,
// under which a search right after an insert may miss it, and add()'s duplicate check would too).
constexpr const char* kConsistency = "Strong";
constexpr int kLoadWaitSeconds = 120;

constexpr const char* kAcceptedMilvusSpecs =
    "accepted form: \"milvus://HOST:PORT/COLLECTION[?index=IVF_FLAT|IVF_PQ|HNSW]"
    "[&field=NAME|&fields=TEXT,IMAGE][&nlist=N][&nprobe=N][&m=N][&ef=N][&db=NAME]"
    "[&timeout_ms=N][&retries=N][&backoff_ms=N]\" (e.g. "
    "\"milvus://127.0.0.1:19530/doppel?index=IVF_FLAT&nlist=1024\"); nlist/nprobe apply to IVF_*, "
    "m to IVF_PQ and HNSW, ef to HNSW";

[[noreturn]] void bad_spec(std::string_view spec, std::string_view why) {
  fail("bad index spec \"{}\": {}; {}", spec, why, kAcceptedMilvusSpecs);
}

int parse_int(std::string_view spec, std::string_view text, std::string_view what, int min) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min) {
    bad_spec(spec, fmt::format("{} must be an integer >= {}, got \"{}\"", what, min, text));
  }
  return value;
}

// Names Milvus accepts for collections and fields: a letter or _, then letters, digits, _.
bool is_name(std::string_view s) {
  if (s.empty() || s.size() > 255 || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t at = s.find(sep, start);
    parts.push_back(s.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

std::string key_filter(const int64_t* keys, size_t n) {
  std::string filter = fmt::format("{} in [", kKeyField);
  for (size_t i = 0; i < n; ++i) filter += fmt::format("{}{}", i ? "," : "", keys[i]);
  return filter + "]";
}

}  // namespace

bool is_milvus_spec(std::string_view spec) { return spec.starts_with(kScheme); }

MilvusSpec MilvusSpec::parse(std::string_view spec) {
  if (!is_milvus_spec(spec)) bad_spec(spec, "does not start with milvus://");
  MilvusSpec s;
  std::string_view rest = spec.substr(kScheme.size());
  const size_t q = rest.find('?');
  const std::string_view query = q == std::string_view::npos ? "" : rest.substr(q + 1);
  rest = rest.substr(0, q);
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) bad_spec(spec, "missing /COLLECTION after HOST:PORT");
  const std::string_view authority = rest.substr(0, slash);
  const size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos || colon == 0) bad_spec(spec, "expected HOST:PORT");
  s.host = authority.substr(0, colon);
  s.port = parse_int(spec, authority.substr(colon + 1), "PORT", 1);
  if (s.port > 65535) bad_spec(spec, fmt::format("PORT {} is out of range", s.port));
  s.collection = rest.substr(slash + 1);
  if (!is_name(s.collection)) {
    bad_spec(spec, fmt::format("collection name \"{}\" must be letters, digits and _, not "
                               "starting with a digit",
                               s.collection));
  }
  std::set<std::string_view> seen;
  bool has_nlist = false, has_nprobe = false, has_m = false, has_ef = false;
  if (!query.empty()) {
    for (std::string_view part : split(query, '&')) {
      const size_t eq = part.find('=');
      if (eq == std::string_view::npos)
        bad_spec(spec, fmt::format("expected name=value at \"{}\"", part));
      const std::string_view name = part.substr(0, eq), value = part.substr(eq + 1);
      if (!seen.insert(name).second) bad_spec(spec, fmt::format("parameter \"{}\" repeated", name));
      if (name == "index") {
        if (value != "IVF_FLAT" && value != "IVF_PQ" && value != "HNSW") {
          bad_spec(spec, fmt::format("unknown index type \"{}\"", value));
        }
        s.index_type = value;
      } else if (name == "field" || name == "fields") {
        if (seen.contains(name == "field" ? "fields" : "field")) {
          bad_spec(spec, "give either field or fields, not both");
        }
        s.fields.clear();
        for (std::string_view f : split(value, ',')) {
          if (!is_name(f) || f == kKeyField)
            bad_spec(spec, fmt::format("bad field name \"{}\"", f));
          s.fields.emplace_back(f);
        }
        if (s.fields.size() > 2 || (name == "field" && s.fields.size() != 1) ||
            (s.fields.size() == 2 && s.fields[0] == s.fields[1])) {
          bad_spec(spec, "field takes one name, fields one or two distinct names");
        }
      } else if (name == "db") {
        if (!is_name(value)) bad_spec(spec, fmt::format("bad database name \"{}\"", value));
        s.db = value;
      } else if (name == "nlist") {
        s.nlist = parse_int(spec, value, name, 1), has_nlist = true;
      } else if (name == "nprobe") {
        s.nprobe = parse_int(spec, value, name, 1), has_nprobe = true;
      } else if (name == "m") {
        s.m = parse_int(spec, value, name, 1), has_m = true;
      } else if (name == "ef") {
        s.ef = parse_int(spec, value, name, 1), has_ef = true;
      } else if (name == "timeout_ms") {
        s.timeout_ms = parse_int(spec, value, name, 1);
      } else if (name == "retries") {
        s.retries = parse_int(spec, value, name, 0);
      } else if (name == "backoff_ms") {
        s.backoff_ms = parse_int(spec, value, name, 0);
      } else {
        bad_spec(spec, fmt::format("unknown parameter \"{}\"", name));
      }
    }
  }
  const bool ivf = s.index_type != "HNSW";
  if (!ivf && (has_nlist || has_nprobe)) bad_spec(spec, "nlist/nprobe do not apply to HNSW");
  if (ivf && has_ef) bad_spec(spec, "ef applies to HNSW only");
  if (s.index_type == "IVF_FLAT" && has_m) bad_spec(spec, "m does not apply to IVF_FLAT");
  return s;
}

std::string MilvusSpec::canonical() const {
  std::string fields_text = fields[0];
  if (fields.size() == 2) fields_text += "," + fields[1];
  std::string params;
  if (index_type == "IVF_FLAT") {
    params = fmt::format("nlist={}&nprobe={}", nlist, nprobe);
  } else if (index_type == "IVF_PQ") {
    params = fmt::format("nlist={}&m={}&nprobe={}", nlist, m, nprobe);
  } else {
    params = fmt::format("m={}&ef={}", m, ef);
  }
  return fmt::format(
      "milvus://{}:{}/{}?db={}&index={}&fields={}&{}&timeout_ms={}&retries={}&backoff_ms={}", host,
      port, collection, db, index_type, fields_text, params, timeout_ms, retries, backoff_ms);
}

MilvusIndex::MilvusIndex(const MilvusSpec& spec, int dim)
    : parsed_(spec), spec_(spec.canonical()), dim_(dim) {
  if (dim <= 0) fail("index {}: dimension must be positive, got {}", spec_, dim);
  if (parsed_.index_type == "IVF_PQ" && dim % parsed_.m != 0) {
    fail("index {}: IVF_PQ needs m={} to divide dim={}", spec_, parsed_.m, dim);
  }
  if (const char* token = std::getenv("DOPPEL_MILVUS_TOKEN")) token_ = token;
}

void MilvusIndex::set_search_params(std::string_view params) {
  if (params.empty()) fail("index {}: no search parameters given", spec_);
  MilvusSpec next = parsed_;
  const bool ivf = parsed_.index_type != "HNSW";
  for (const std::string_view part : split(params, ',')) {
    const size_t eq = part.find('=');
    const std::string_view name = part.substr(0, eq);
    if (eq == std::string_view::npos || (name != (ivf ? "nprobe" : "ef"))) {
      fail("index {}: \"{}\" is not a search-time parameter of a Milvus {} index (that is {})",
           spec_, part, parsed_.index_type, ivf ? "nprobe" : "ef");
    }
    (ivf ? next.nprobe : next.ef) = parse_int(params, part.substr(eq + 1), name, 1);
  }
  parsed_ = next;
  spec_ = parsed_.canonical();
}

json MilvusIndex::call(std::string_view endpoint, const json& body, json* reply_out) const {
  const std::string path = fmt::format("/v2/vectordb/{}", endpoint);
  const std::string payload = body.dump();
  httplib::Headers headers;
  if (!token_.empty()) headers.emplace("Authorization", "Bearer " + token_);
  const auto timeout = std::chrono::milliseconds(parsed_.timeout_ms);
  std::string last_problem;
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(parsed_.backoff_ms) *
                                  (1LL << std::min(attempt - 1, 20)));
    }
    httplib::Client client(parsed_.host, parsed_.port);
    client.set_connection_timeout(timeout);
    client.set_read_timeout(timeout);
    client.set_write_timeout(timeout);
    httplib::Result res = client.Post(path, headers, payload, "application/json");
    if (!res) {
      last_problem = fmt::format("connection error: {}", httplib::to_string(res.error()));
    } else if (res->status >= 500) {
      last_problem = fmt::format("HTTP {}: {}", res->status, res->body.substr(0, 200));
    } else {
      if (res->status != 200) {
        fail("milvus {}:{} {}: HTTP {}: {}", parsed_.host, parsed_.port, path, res->status,
             res->body.substr(0, 200));
      }
      json reply = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
      if (reply.is_discarded() || !reply.is_object() || !reply.contains("code") ||
          !reply["code"].is_number_integer()) {
        fail(
            "milvus {}:{} {}: malformed response (not a JSON object with an integer \"code\"): "
            "{:.200}",
            parsed_.host, parsed_.port, path, res->body);
      }
      if (reply["code"].get<int64_t>() != 0) {
        const std::string message =
            reply.value("message", json("")).is_string() ? reply.value("message", "") : "";
        fail("milvus {}:{} {}: code {}: {}", parsed_.host, parsed_.port, path,
             reply["code"].get<int64_t>(), message);
      }
      json data = reply.contains("data") ? reply["data"] : json();
      if (reply_out) *reply_out = std::move(reply);
      return data;
    }
    if (attempt >= parsed_.retries) {
      fail("milvus {}:{} {}: failed after {} attempts, last: {}", parsed_.host, parsed_.port, path,
           attempt + 1, last_problem);
    }
  }
}

json MilvusIndex::base_request() const {
  return json{{"dbName", parsed_.db}, {"collectionName", parsed_.collection}};
}

void MilvusIndex::open() {
  const json has = call("collections/has", base_request());
  if (!has.is_object() || !has.contains("has") || !has["has"].is_boolean()) {
    fail("milvus collections/has: malformed response, no boolean data.has");
  }
  if (!has["has"].get<bool>()) {
    fail("index {}: collection {} does not exist in database {}", spec_, parsed_.collection,
         parsed_.db);
  }
  // The collection must have our vector fields with our dim.
  const json desc = call("collections/describe", base_request());
  if (!desc.is_object() || !desc.contains("fields") || !desc["fields"].is_array()) {
    fail("milvus collections/describe: malformed response, no data.fields array");
  }
  for (const std::string& field : parsed_.fields) {
    int found_dim = -1;
    for (const json& f : desc["fields"]) {
      if (!f.is_object() || f.value("name", "") != field || !f.contains("params")) continue;
      for (const json& p : f["params"]) {
        if (p.is_object() && p.value("key", "") == "dim") {
          const json& v = p["value"];
          found_dim = v.is_string() ? std::atoi(v.get<std::string>().c_str())
                                    : (v.is_number_integer() ? v.get<int>() : -1);
        }
      }
    }
    if (found_dim != dim_) {
      fail("index {}: collection {} has no FLOAT_VECTOR field {} of dim {} (found dim {})", spec_,
           parsed_.collection, field, dim_, found_dim);
    }
  }
  const json state = call("collections/get_load_state", base_request());
  if (!state.is_object() || state.value("loadState", "") != "LoadStateLoaded") load();
  ready_ = true;
}

// collections/load only starts loading: poll get_load_state until Milvus reports it loaded.
void MilvusIndex::load() {
  call("collections/load", base_request());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kLoadWaitSeconds);
  for (;;) {
    const json state = call("collections/get_load_state", base_request());
    if (state.is_object() && state.value("loadState", "") == "LoadStateLoaded") return;
    if (std::chrono::steady_clock::now() > deadline) {
      fail("index {}: collection {} not loaded after {} s (loadState {})", spec_,
           parsed_.collection, kLoadWaitSeconds,
           state.is_object() ? state.value("loadState", "?") : "?");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void MilvusIndex::train(size_t /*n*/, const float* /*x*/) {
  const json has = call("collections/has", base_request());
  if (has.is_object() && has.value("has", false)) {
    open();
    return;
  }
  json fields = json::array();
  fields.push_back({{"fieldName", kKeyField}, {"dataType", "Int64"}, {"isPrimary", true}});
  for (const std::string& f : parsed_.fields) {
    fields.push_back({{"fieldName", f},
                      {"dataType", "FloatVector"},
                      {"elementTypeParams", {{"dim", std::to_string(dim_)}}}});
  }
  json create = base_request();
  create["schema"] = {{"autoID", false}, {"enableDynamicField", false}, {"fields", fields}};
  call("collections/create", create);

  json index_params = json::array();
  for (const std::string& f : parsed_.fields) {
    json params;
    if (parsed_.index_type == "IVF_FLAT") {
      params = {{"nlist", parsed_.nlist}};
    } else if (parsed_.index_type == "IVF_PQ") {
      params = {{"nlist", parsed_.nlist}, {"m", parsed_.m}, {"nbits", 8}};
    } else {
      params = {{"M", parsed_.m}, {"efConstruction", parsed_.ef_construction}};
    }
    index_params.push_back({{"fieldName", f},
                            {"indexName", f + "_index"},
                            {"metricType", "IP"},
                            {"indexType", parsed_.index_type},
                            {"params", params}});
  }
  json index = base_request();
  index["indexParams"] = index_params;
  call("indexes/create", index);
  load();
  ready_ = true;
}

std::vector<int64_t> MilvusIndex::present_keys(size_t n, const int64_t* keys) const {
  std::vector<int64_t> present;
  for (size_t start = 0; start < n; start += kMaxRowsPerRequest) {
    const size_t count = std::min(kMaxRowsPerRequest, n - start);
    json q = base_request();
    q["filter"] = key_filter(keys + start, count);
    q["outputFields"] = {kKeyField};
    q["limit"] = count;
    q["consistencyLevel"] = kConsistency;
    const json rows = call("entities/query", q);
    if (!rows.is_array()) fail("milvus entities/query: malformed response, data is not an array");
    for (const json& row : rows) {
      if (!row.is_object() || !row.contains(kKeyField) || !row[kKeyField].is_number_integer()) {
        fail("milvus entities/query: malformed row without integer \"{}\"", kKeyField);
      }
      present.push_back(row[kKeyField].get<int64_t>());
    }
  }
  return present;
}

void MilvusIndex::write_rows(std::string_view endpoint, size_t n,
                             const std::vector<const float*>& per_field, const int64_t* keys) {
  if (!ready_) fail("index {}: add before train", spec_);
  if (per_field.size() != parsed_.fields.size()) {
    fail("index {}: {} vector blocks given, the collection has {} vector fields", spec_,
         per_field.size(), parsed_.fields.size());
  }
  std::unordered_set<int64_t> batch;
  for (size_t i = 0; i < n; ++i) {
    if (keys[i] < 0) fail("index {}: key {} (row {} of the batch) is negative", spec_, keys[i], i);
    if (!batch.insert(keys[i]).second) {
      fail("index {}: key {} appears twice in the batch", spec_, keys[i]);
    }
  }
  for (size_t start = 0; start < n; start += kMaxRowsPerRequest) {
    const size_t count = std::min(kMaxRowsPerRequest, n - start);
    json rows = json::array();
    for (size_t i = start; i < start + count; ++i) {
      json row = {{kKeyField, keys[i]}};
      for (size_t f = 0; f < per_field.size(); ++f) {
        const float* v = per_field[f] + i * static_cast<size_t>(dim_);
        row[parsed_.fields[f]] = std::vector<float>(v, v + dim_);
      }
      rows.push_back(std::move(row));
    }
    json body = base_request();
    body["data"] = std::move(rows);
    call(endpoint, body);
  }
}

void MilvusIndex::add(size_t n, const float* x, const int64_t* keys) {
  if (parsed_.fields.size() != 1) {
    fail("index {}: add() needs a single-field collection; use add_multi with {} blocks", spec_,
         parsed_.fields.size());
  }
  add_multi(n, {x}, keys);
}

void MilvusIndex::add_multi(size_t n, const std::vector<const float*>& per_field,
                            const int64_t* keys) {
  if (!ready_) fail("index {}: add before train", spec_);
  if (n == 0) return;
  const std::vector<int64_t> present = present_keys(n, keys);
  if (!present.empty()) fail("index {}: key {} is already present", spec_, present[0]);
  write_rows("entities/insert", n, per_field, keys);
}

void MilvusIndex::upsert_multi(size_t n, const std::vector<const float*>& per_field,
                               const int64_t* keys) {
  if (n == 0) return;
  write_rows("entities/upsert", n, per_field, keys);
}

size_t MilvusIndex::remove(size_t n, const int64_t* keys) {
  if (!ready_ || n == 0) return 0;
  const std::vector<int64_t> present = present_keys(n, keys);
  for (size_t start = 0; start < present.size(); start += kMaxRowsPerRequest) {
    const size_t count = std::min(kMaxRowsPerRequest, present.size() - start);
    json body = base_request();
    body["filter"] = key_filter(present.data() + start, count);
    call("entities/delete", body);
  }
  return present.size();
}

size_t MilvusIndex::size() const {
  if (!ready_) return 0;
  json q = base_request();
  q["filter"] = "";
  q["outputFields"] = {"count(*)"};
  q["consistencyLevel"] = kConsistency;
  const json rows = call("entities/query", q);
  if (!rows.is_array() || rows.size() != 1 || !rows[0].is_object() ||
      !rows[0].contains("count(*)") || !rows[0]["count(*)"].is_number_integer()) {
    fail("milvus entities/query: malformed count(*) response");
  }
  return rows[0]["count(*)"].get<size_t>();
}

json MilvusIndex::search_params() const {
  if (parsed_.index_type == "HNSW") return {{"ef", parsed_.ef}};
  return {{"nprobe", parsed_.nprobe}};
}

// Milvus returns the hits of all queries in one flat "data" array and the number of hits of each
// query in "topks". Hits carry the primary key field and "distance" (the inner product for IP).
void MilvusIndex::parse_hits(std::string_view endpoint, const json& reply, size_t n, int k,
                             float* scores, int64_t* keys) const {
  const size_t kk = static_cast<size_t>(k);
  std::fill(scores, scores + n * kk, -std::numeric_limits<float>::infinity());
  std::fill(keys, keys + n * kk, int64_t{-1});
  const json& hits = reply.contains("data") ? reply["data"] : json::array();
  if (!hits.is_array()) fail("milvus {}: malformed response, data is not an array", endpoint);
  std::vector<size_t> topks;
  if (reply.contains("topks") && reply["topks"].is_array()) {
    for (const json& t : reply["topks"]) {
      if (!t.is_number_unsigned() && !t.is_number_integer()) {
        fail("milvus {}: malformed topks", endpoint);
      }
      topks.push_back(t.get<size_t>());
    }
  } else {
    topks.push_back(hits.size());  // one query: all hits are its own (callers ensure n == 1)
  }
  size_t total = 0;
  for (size_t t : topks) total += t;
  if (topks.size() != n || total != hits.size()) {
    fail("milvus {}: malformed response: {} topks summing to {} for {} queries and {} hits",
         endpoint, topks.size(), total, n, hits.size());
  }
  size_t at = 0;
  for (size_t q = 0; q < n; ++q) {
    for (size_t r = 0; r < topks[q]; ++r, ++at) {
      const json& hit = hits[at];
      if (!hit.is_object() || !hit.contains(kKeyField) || !hit[kKeyField].is_number_integer() ||
          !hit.contains("distance") || !hit["distance"].is_number()) {
        fail("milvus {}: malformed hit {}: {:.200}", endpoint, at, hit.dump());
      }
      if (r >= kk) continue;
      keys[q * kk + r] = hit[kKeyField].get<int64_t>();
      scores[q * kk + r] = hit["distance"].get<float>();
    }
  }
}

void MilvusIndex::search(size_t n, const float* queries, int k, float* scores,
                         int64_t* keys) const {
  if (k <= 0) fail("index {}: k must be positive, got {}", spec_, k);
  if (n == 0) return;
  if (!ready_) fail("index {}: search before train", spec_);
  json body = base_request();
  json data = json::array();
  for (size_t q = 0; q < n; ++q) {
    const float* v = queries + q * static_cast<size_t>(dim_);
    data.push_back(std::vector<float>(v, v + dim_));
  }
  body["data"] = std::move(data);
  body["annsField"] = parsed_.fields[0];
  body["limit"] = k;
  body["outputFields"] = {kKeyField};
  body["searchParams"] = {{"metricType", "IP"}, {"params", search_params()}};
  body["consistencyLevel"] = kConsistency;
  json reply;
  call("entities/search", body, &reply);
  if (n > 1 && !reply.contains("topks")) {
    // Older Milvus replies do not say which hits belong to which query: ask one at a time.
    const size_t kk = static_cast<size_t>(k), d = static_cast<size_t>(dim_);
    for (size_t q = 0; q < n; ++q) search(1, queries + q * d, k, scores + q * kk, keys + q * kk);
    return;
  }
  parse_hits("entities/search", reply, n, k, scores, keys);
}

void MilvusIndex::search_hybrid(size_t n, const float* text_queries, const float* image_queries,
                                int k, float* scores, int64_t* keys, int rrf_k) const {
  if (parsed_.fields.size() != 2) {
    fail("index {}: search_hybrid needs a spec with fields=TEXT,IMAGE", spec_);
  }
  if (k <= 0) fail("index {}: k must be positive, got {}", spec_, k);
  if (n == 0) return;
  if (!ready_) fail("index {}: search before train", spec_);
  json subs = json::array();
  const float* blocks[2] = {text_queries, image_queries};
  for (int f = 0; f < 2; ++f) {
    json data = json::array();
    for (size_t q = 0; q < n; ++q) {
      const float* v = blocks[f] + q * static_cast<size_t>(dim_);
      data.push_back(std::vector<float>(v, v + dim_));
    }
    subs.push_back({{"data", std::move(data)},
                    {"annsField", parsed_.fields[f]},
                    {"metricType", "IP"},
                    {"limit", k},
                    {"params", search_params()}});
  }
  json body = base_request();
  body["search"] = std::move(subs);
  body["rerank"] = {{"strategy", "rrf"}, {"params", {{"k", rrf_k}}}};
  body["consistencyLevel"] = kConsistency;
  body["limit"] = k;
  body["outputFields"] = {kKeyField};
  json reply;
  call("entities/hybrid_search", body, &reply);
  if (n > 1 && !reply.contains("topks")) {  // older Milvus: see search()
    const size_t kk = static_cast<size_t>(k), d = static_cast<size_t>(dim_);
    for (size_t q = 0; q < n; ++q) {
      search_hybrid(1, text_queries + q * d, image_queries + q * d, k, scores + q * kk,
                    keys + q * kk, rrf_k);
    }
    return;
  }
  parse_hits("entities/hybrid_search", reply, n, k, scores, keys);
}

void MilvusIndex::save(const std::filesystem::path& path) const {
  const json file = {
      {"format", kSaveFormat}, {"version", kSaveVersion}, {"spec", spec_}, {"dim", dim_}};
  write_file_atomic(path, file.dump(2) + "\n");
}

std::unique_ptr<VectorIndex> load_milvus_index(const std::filesystem::path& path,
                                               std::string_view text) {
  const std::string where = path.string();
  const json file = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (file.is_discarded() || !file.is_object() || file.value("format", "") != kSaveFormat) {
    fail("{}: not a doppel index file (neither DPLINDEX nor JSON with format \"{}\")", where,
         kSaveFormat);
  }
  if (!file.contains("version") || !file["version"].is_number_integer() ||
      file["version"].get<int>() != kSaveVersion) {
    fail("{}: {} format version {}, this doppel reads {}", where, kSaveFormat,
         file.value("version", json()).dump(), kSaveVersion);
  }
  if (!file.contains("spec") || !file["spec"].is_string() || !file.contains("dim") ||
      !file["dim"].is_number_integer()) {
    fail("{}: {} file needs a string \"spec\" and an integer \"dim\"", where, kSaveFormat);
  }
  MilvusSpec spec;
  try {
    spec = MilvusSpec::parse(file["spec"].get<std::string>());
  } catch (const Error& e) {
    fail("{}: {}", where, e.what());
  }
  auto index = std::make_unique<MilvusIndex>(spec, file["dim"].get<int>());
  index->open();
  return index;
}

}  // namespace doppel
