// Route tests of `doppel serve` over a real socket on 127.0.0.1, against a workspace built from
// a small synthetic catalog at the start of the suite.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <random>
#include <thread>

#include "catalog/test_dir.h"
#include "image/image_io.h"
#include "image/image_nn_test_util.h"
#include "image/image_test_util.h"
#include "pipeline/decider_job.h"
#include "pipeline/image_jobs.h"
#include "pipeline/index_job.h"
#include "pipeline/ingest_job.h"
#include "pipeline/labeled_pairs.h"
#include "pipeline/match_models.h"
#include "pipeline/text_jobs.h"
#include "server/auth.h"
#include "server/http_server.h"
#include "server/json_api.h"
#include "server/request_image.h"
#include "synth/catalog_synth.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kToken = "test-token-0123456789";

// Default options (boosting stops early on this small catalog), so that this test does not
// depend on how the decider's options are laid out.
void train_small_decider(Workspace& ws) {
  DeciderOptions decider;
  decider.threads = 1;
  train_decider(ws, decider);
}

// Builds ws/ the way the CLI does: synth -> ingest -> train text -> embed -> index -> decider.
SynthCatalog build_workspace(const fs::path& dir, bool with_decider = true) {
  SynthOptions synth;
  synth.products = 80;
  synth.seed = 11;
  auto catalog = synthesize_catalog(synth);
  write_synth_catalog(catalog, dir / "data");
  auto ws = Workspace::init(dir / "ws");
  ingest_file(ws, dir / "data" / "listings.csv", {}, /*strict=*/true);
  ingest_file(ws, dir / "data" / "pairs.csv", {}, /*strict=*/true);
  ClassicalTextEncoder::Options text;
  text.hash_bits = 16;
  text.fold_dim = 256;
  text.out_dim = 32;
  train_tfidf(ws, text);
  embed_text(ws);
  build_index(ws, "Flat");
  if (with_decider) {
    DeciderOptions decider;
    decider.xgboost.rounds = 60;
    decider.threads = 1;
    train_decider(ws, decider);
  }
  return catalog;
}

// A DoppelServer on a free port, run on its own thread; stopped (gracefully) by the destructor.
class RunningServer {
 public:
  RunningServer(const fs::path& ws, ServerOptions options) : server_(ws, prepare(options)) {
    port_ = server_.bind();
    thread_ = std::thread([this] {
      try {
        server_.run();
      } catch (const Error& e) {
        run_error_ = e.what();
      }
    });
  }
  ~RunningServer() {
    server_.stop();
    thread_.join();
  }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30);
    return c;
  }
  void wait_ready() const {
    for (int i = 0; i < 600; ++i) {
      auto res = client().Get("/health");
      if (res && res->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "the server did not become ready";
  }
  // Waits for run() to return (after a failed load) and gives its error.
  std::string join() {
    thread_.join();
    thread_ = std::thread([] {});
    return run_error_;
  }
  int port() const { return port_; }

 private:
  static ServerOptions prepare(ServerOptions options) {
    options.port = 0;
    return options;
  }
  DoppelServer server_;
  int port_ = 0;
  std::thread thread_;
  std::string run_error_;
};

struct Reply {
  int status = 0;
  json body;
  std::string text;
};

Reply to_reply(const httplib::Result& res) {
  Reply r;
  if (!res) {
    r.status = -1;
    return r;
  }
  r.status = res->status;
  r.text = res->body;
  r.body = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  return r;
}

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 2]);
    for (size_t j = 0; j < 4; ++j)
      out += i + j <= bytes.size() ? kAlphabet[(v >> (18 - 6 * j)) & 63] : '=';
  }
  return out;
}

// The sources of candidate `id` in a match reply; null when it is not a candidate.
json sources_of(const Reply& r, const std::string& id) {
  for (const auto& c : r.body["candidates"])
    if (c["id"] == id) return c["sources"];
  return nullptr;
}

httplib::Headers bearer(const std::string& token = kToken) {
  return {{"Authorization", "Bearer " + token}};
}

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() /
                        ("doppel_server_test_" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    catalog_ = new SynthCatalog(build_workspace(*dir_));
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete catalog_;
    delete dir_;
  }
  void SetUp() override {
    ServerOptions options;
    options.token = kToken;
    options.max_body_bytes = 64 * 1024;
    options.max_image_bytes = 16 * 1024;
    server_ = std::make_unique<RunningServer>(ws(), options);
    server_->wait_ready();
  }
  void TearDown() override { server_.reset(); }

  static fs::path ws() { return *dir_ / "ws"; }

  Reply get(const std::string& path) const { return to_reply(server_->client().Get(path)); }
  Reply post(const std::string& path, const json& body,
             const httplib::Headers& headers = {}) const {
    return to_reply(server_->client().Post(path, headers, body.dump(), "application/json"));
  }
  Reply put(const std::string& path, const json& body,
            const httplib::Headers& headers = bearer()) const {
    return to_reply(server_->client().Put(path, headers, body.dump(), "application/json"));
  }
  Reply del(const std::string& path, const httplib::Headers& headers = bearer()) const {
    return to_reply(server_->client().Delete(path, headers));
  }
  // The product of a listing id in the synthetic catalog.
  static std::string product(const std::string& id) {
    for (size_t i = 0; i < catalog_->listings.size(); ++i)
      if (catalog_->listings[i].id == id) return catalog_->product_of[i];
    return "";
  }
  // A listing whose product is listed at least twice.
  static const Listing& duplicated_listing() {
    std::map<std::string, int> count;
    for (const auto& p : catalog_->product_of) ++count[p];
    for (size_t i = 0; i < catalog_->listings.size(); ++i)
      if (count[catalog_->product_of[i]] >= 2) return catalog_->listings[i];
    throw std::logic_error("no duplicated product");
  }

  static fs::path* dir_;
  static SynthCatalog* catalog_;
  std::unique_ptr<RunningServer> server_;
};

fs::path* ServerTest::dir_ = nullptr;
SynthCatalog* ServerTest::catalog_ = nullptr;

TEST_F(ServerTest, HealthIsOkWithCountsAndMetricsCountRequests) {
  const auto health = get("/health");
  ASSERT_EQ(health.status, 200) << health.text;
  EXPECT_EQ(health.body["status"], "ok");
  EXPECT_EQ(health.body["listings"], catalog_->listings.size());
  EXPECT_EQ(health.body["indexed"], catalog_->listings.size());
  EXPECT_EQ(health.body["index_spec"], "Flat");

  get("/v1/listings/" + catalog_->listings[0].id);
  const auto metrics = server_->client().Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_THAT(metrics->body,
              HasSubstr("doppel_listings " + std::to_string(catalog_->listings.size())));
  EXPECT_THAT(metrics->body, HasSubstr("doppel_index_vectors"));
  EXPECT_THAT(metrics->body, HasSubstr("doppel_model_info{text_encoder=\"tfidf"));
  EXPECT_THAT(
      metrics->body,
      HasSubstr("doppel_http_requests_total{route=\"GET /v1/listings/{id}\",status=\"200\"} 1"));
  EXPECT_THAT(metrics->body, HasSubstr("doppel_http_request_duration_seconds_bucket{route=\"GET "
                                       "/health\",le=\"+Inf\"}"));
}

TEST(ServerLoad, HealthIs503WhileTheWorkspaceCannotBeServed) {
  testing::TestDir dir;
  build_workspace(dir.path(), /*with_decider=*/false);
  RunningServer server(dir.path() / "ws", ServerOptions{});
  // The load fails (no decider): /health says so with 503 until run() gives up.
  Reply health;
  for (int i = 0; i < 200; ++i) {
    health = to_reply(server.client().Get("/health"));
    if (health.status != 503 || health.body.value("status", "") == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (health.status != -1) {  // the server may already have stopped
    EXPECT_EQ(health.status, 503) << health.text;
    EXPECT_EQ(health.body["status"], "failed");
    EXPECT_THAT(health.body["error"].get<std::string>(), HasSubstr("train decider"));
  }
  EXPECT_THAT(server.join(), HasSubstr("no decider"));
}

TEST_F(ServerTest, MatchReturnsTheDuplicateFirst) {
  const Listing& listing = duplicated_listing();
  const auto r = post("/v1/match", {{"title", listing.title}, {"brand", listing.brand}, {"k", 5}});
  ASSERT_EQ(r.status, 200) << r.text;
  const auto& candidates = r.body["candidates"];
  ASSERT_EQ(candidates.size(), 5u);
  EXPECT_EQ(product(candidates[0]["id"]), product(listing.id)) << candidates.dump();
  EXPECT_TRUE(candidates[0]["match"].get<bool>());
  for (size_t i = 1; i < candidates.size(); ++i)
    EXPECT_GE(candidates[i - 1]["confidence"], candidates[i]["confidence"]);
  EXPECT_EQ(r.body["k"], 5);
  EXPECT_TRUE(r.body["image"].is_null());
}

TEST_F(ServerTest, UpsertThenMatchFindsItAndGetReturnsIt) {
  const json listing = {{"title", "Zorblax Quantum Toaster QX-9000 chrome 4-slice"},
                        {"brand", "Zorblax"},
                        {"price", 129.5}};
  auto r = put("/v1/listings/new-toaster-1", listing);
  ASSERT_EQ(r.status, 201) << r.text;
  EXPECT_TRUE(r.body["created"].get<bool>());

  r = post("/v1/match", {{"title", "zorblax quantum toaster QX9000 chrome"}});
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["candidates"][0]["id"], "new-toaster-1") << r.text;

  r = get("/v1/listings/new-toaster-1");
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["brand"], "Zorblax");
  EXPECT_EQ(r.body["price"], 129.5);

  // Replacing keeps one listing and answers 200.
  r = put("/v1/listings/new-toaster-1", {{"title", "Zorblax Quantum Toaster QX-9000 black"}});
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_FALSE(r.body["created"].get<bool>());
  EXPECT_EQ(get("/health").body["listings"], catalog_->listings.size() + 1);
  EXPECT_EQ(get("/v1/listings/new-toaster-1").body["title"],
            "Zorblax Quantum Toaster QX-9000 black");

  // The server stores each vector with what it was made from, so `doppel embed` redoes none.
  auto workspace = Workspace::open(ws());
  EXPECT_EQ(embed_text(workspace).encoded, 0u);
}

TEST_F(ServerTest, DeleteRemovesFromCatalogAndIndex) {
  ASSERT_EQ(put("/v1/listings/gone-1", {{"title", "Vintage brass telescope 40x"}}).status, 201);
  auto r = del("/v1/listings/gone-1");
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(get("/v1/listings/gone-1").status, 404);
  EXPECT_EQ(del("/v1/listings/gone-1").status, 404);
  r = post("/v1/match", {{"title", "Vintage brass telescope 40x"}, {"k", 20}});
  for (const auto& c : r.body["candidates"]) EXPECT_NE(c["id"], "gone-1");
  const auto catalog = CatalogStore::open(ws() / "catalog.db");
  EXPECT_FALSE(catalog.get("gone-1").has_value());
}

TEST_F(ServerTest, UnknownIdsAre404WithAJsonError) {
  for (const char* path : {"/v1/listings/no-such-id", "/v1/clusters/no-such-id",
                           "/v1/listings/no-such-id/image", "/v1/nothing-here"}) {
    const auto r = get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_TRUE(r.body.contains("error")) << path << ": " << r.text;
  }
}

TEST_F(ServerTest, MutatingRoutesNeedTheBearerToken) {
  const json listing = {{"title", "Auth test lamp"}};
  EXPECT_EQ(put("/v1/listings/auth-1", listing, {}).status, 401);
  EXPECT_EQ(put("/v1/listings/auth-1", listing, bearer("wrong")).status, 401);
  EXPECT_EQ(put("/v1/listings/auth-1", listing, {{"Authorization", "Basic xyz"}}).status, 401);
  EXPECT_EQ(del("/v1/listings/" + catalog_->listings[0].id, {}).status, 401);
  EXPECT_EQ(post("/v1/labels", {{"id_a", "a"}, {"id_b", "b"}, {"match", true}}).status, 401);
  EXPECT_EQ(get("/v1/listings/auth-1").status, 404);  // nothing was written
  EXPECT_EQ(put("/v1/listings/auth-1", listing).status, 201);
}

TEST(Auth, ConstantTimeCompareAndTokenSources) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("", "a"));
  EXPECT_EQ(check_bearer("Bearer s3cret", "s3cret"), AuthResult::kOk);
  EXPECT_EQ(check_bearer("", "s3cret"), AuthResult::kMissing);
  EXPECT_EQ(check_bearer("Bearer s3cre", "s3cret"), AuthResult::kWrong);
  EXPECT_EQ(check_bearer("Bearer x", ""), AuthResult::kNotConfigured);
  testing::TestDir dir;
  EXPECT_EQ(load_token(dir.write("token", "from-file\nignored\n")), "from-file");
  EXPECT_THROW(load_token(dir.write("empty", "\n")), Error);
  EXPECT_THROW(load_token(dir.path() / "missing"), Error);
}

TEST_F(ServerTest, BodiesOverTheLimitAre413) {
  const std::string big(100 * 1024, 'x');
  const auto r = post("/v1/match", {{"title", big}});
  EXPECT_EQ(r.status, 413) << r.text.substr(0, 200);
  EXPECT_THAT(r.body.value("error", ""), HasSubstr("larger than"));
  EXPECT_EQ(get("/health").status, 200);
}

TEST_F(ServerTest, MalformedRequestsAre400Or415) {
  auto raw = [&](const std::string& body, const char* type = "application/json") {
    return to_reply(server_->client().Post("/v1/match", body, type));
  };
  EXPECT_EQ(raw("{").status, 400);
  EXPECT_THAT(raw("{").body.value("error", ""), HasSubstr("not valid JSON"));
  EXPECT_EQ(raw("[]").status, 400);
  EXPECT_EQ(raw("{\"title\": 5}").status, 400);
  EXPECT_THAT(raw("{\"title\": 5}").body.value("error", ""), HasSubstr("'title'"));
  EXPECT_EQ(raw("{}").status, 400);
  EXPECT_EQ(raw("{\"title\": \"x\", \"k\": 0}").status, 400);
  EXPECT_EQ(raw("{\"title\": \"x\", \"k\": 1.5}").status, 400);
  EXPECT_EQ(raw("{\"title\": \"x\", \"tilte\": \"typo\"}").status, 400);
  EXPECT_EQ(raw("{\"title\": \"x\", \"price\": \"cheap\"}").status, 400);
  EXPECT_EQ(raw("title=x", "application/x-www-form-urlencoded").status, 415);
  EXPECT_EQ(put("/v1/listings/p1", {{"title", "x"}, {"id", "other"}}).status, 400);
  EXPECT_EQ(post("/v1/labels", {{"id_a", "a"}}, bearer()).status, 400);
  EXPECT_EQ(get("/v1/review/queue?n=abc").status, 400);
  EXPECT_EQ(get("/v1/review/queue?n=0").status, 400);
  EXPECT_EQ(get("/v1/review/queue?n=5x").status, 400);
}

TEST_F(ServerTest, PathTraversalThroughIdsAndImagesIsRefused) {
  EXPECT_EQ(get("/v1/listings/..").status, 400);
  EXPECT_EQ(get("/v1/listings/%2e%2e").status, 400);
  EXPECT_EQ(put("/v1/listings/%2e%2e", {{"title", "x"}}).status, 400);
  EXPECT_EQ(get("/v1/listings/a%2Fb").status, 404);  // a decoded '/' matches no route
  EXPECT_EQ(get("/v1/listings/bad%01id").status, 400);
  fs::create_directories(*dir_ / "outside");
  const std::string png = testing::encode(cv::Mat(8, 8, CV_8UC3, cv::Scalar(10, 20, 30)), ".png");
  std::ofstream(*dir_ / "outside" / "secret.png", std::ios::binary) << png;
  for (const char* image : {"../outside/secret.png", "/etc/passwd", "file:///etc/passwd",
                            "ftp://example.com/a.png", "a/../../outside/secret.png"}) {
    const auto match = post("/v1/match", {{"title", "x"}, {"image", image}});
    EXPECT_EQ(match.status, 400) << image << ": " << match.text;
    const auto upsert = put("/v1/listings/trav-1", {{"title", "x"}, {"image", image}});
    EXPECT_EQ(upsert.status, 400) << image << ": " << upsert.text;
  }
  EXPECT_EQ(get("/v1/listings/trav-1").status, 404);
}

TEST_F(ServerTest, MatchAcceptsInlineAndLocalImagesWithinTheLimits) {
  const std::string png = testing::encode(cv::Mat(16, 24, CV_8UC3, cv::Scalar(200, 0, 0)), ".png");
  std::ofstream(ws() / "photo.png", std::ios::binary) << png;
  auto r = post("/v1/match",
                {{"title", "red thing"}, {"image", "data:image/png;base64," + base64(png)}});
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["image"]["format"], "PNG");
  EXPECT_EQ(r.body["image"]["width"], 24);
  EXPECT_FALSE(r.body["image"]["used"].get<bool>());
  r = post("/v1/match", {{"title", "red thing"}, {"image", "photo.png"}});
  EXPECT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(post("/v1/match", {{"title", "x"}, {"image", "data:image/png;base64,AAAA"}}).status,
            400);
  EXPECT_EQ(post("/v1/match", {{"title", "x"}, {"image", "data:image/png;base64,%%%"}}).status,
            400);
  const std::string big(40 * 1024, 'A');  // decodes to more than the 16 KiB image limit
  EXPECT_EQ(post("/v1/match", {{"title", "x"}, {"image", "data:image/png;base64," + big}}).status,
            413);
  // A listing's stored image is served back for the review page.
  ASSERT_EQ(put("/v1/listings/with-photo", {{"title", "red thing"}, {"image", "photo.png"}}).status,
            201);
  const auto image = server_->client().Get("/v1/listings/with-photo/image");
  ASSERT_TRUE(image);
  EXPECT_EQ(image->status, 200);
  EXPECT_EQ(image->get_header_value("Content-Type"), "image/png");
  EXPECT_EQ(image->body, png);
}

TEST(ParseListingQueries, ReadsAnObjectAnArrayOrJsonLinesAndNamesWhatIsWrong) {
  const auto one = parse_listing_queries(R"({"id": "q", "title": "Lamp",
                                             "price": 9.5})",
                                         "one.json");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].id, "q");
  EXPECT_EQ(one[0].price, 9.5);
  EXPECT_EQ(parse_listing_queries(R"([{"title": "A"}, {"title": "B"}])", "a.json").at(1).title,
            "B");
  const auto lines = parse_listing_queries("{\"title\": \"A\"}\n\n{\"title\": \"B\"}\n", "l.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].title, "B");

  const auto error = [](const std::string& name, const std::string& text) {
    try {
      parse_listing_queries(text, name);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(error("b.jsonl", "{\"title\": \"A\"}\n{\"title\": \"B\"\n"),
              HasSubstr("b.jsonl: line 2: not valid JSON"));
  EXPECT_THAT(error("c.json", R"([{"title": "A"}, {"title": ""}])"),
              HasSubstr("c.json: element 2: field 'title' is required"));
  EXPECT_THAT(error("d.json", R"({"id": 7, "title": "A"})"),
              HasSubstr("d.json: line 1: field 'id' must be a string"));
  EXPECT_THAT(error("e.json", "[1]"), HasSubstr("element 1: a listing must be a JSON object"));
  EXPECT_THAT(error("f.json", "\n"), HasSubstr("f.json: no listings"));
  EXPECT_THAT(error("g.json", ""), HasSubstr("g.json: no listings"));
}

TEST(Base64, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(base64("hello"), "aGVsbG8=");
  EXPECT_EQ(decode_base64("aGVsbG8="), "hello");
  EXPECT_EQ(decode_base64("aGVsbG8"), "hello");
  EXPECT_EQ(decode_base64("aGk="), "hi");
  EXPECT_EQ(decode_base64(""), "");
  EXPECT_THROW(decode_base64("a"), Error);
  EXPECT_THROW(decode_base64("aG-k"), Error);
}

TEST_F(ServerTest, LabelsAreStoredAsReviewTrainingData) {
  const auto& a = catalog_->listings[0];
  const auto& b = catalog_->listings[1];
  auto r = post("/v1/labels", {{"id_a", a.id}, {"id_b", b.id}, {"match", false}}, bearer());
  ASSERT_EQ(r.status, 201) << r.text;
  EXPECT_EQ(
      post("/v1/labels", {{"id_a", a.id}, {"id_b", "ghost"}, {"match", true}}, bearer()).status,
      404);
  EXPECT_EQ(post("/v1/labels", {{"id_a", a.id}, {"id_b", a.id}, {"match", true}}, bearer()).status,
            400);

  // What `doppel train decider` reads: the train split.
  const auto catalog = CatalogStore::open(ws() / "catalog.db");
  const auto key_a = catalog.get(a.id)->key, key_b = catalog.get(b.id)->key;
  const auto train = labeled_pairs(catalog, "train");
  bool found = false;
  for (size_t i = 0; i < train.pairs.size(); ++i)
    if (train.pairs[i] == KeyPair(std::min(key_a, key_b), std::max(key_a, key_b))) {
      found = true;
      EXPECT_EQ(train.labels[i], 0);
    }
  EXPECT_TRUE(found);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((ws() / "catalog.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT source FROM labels WHERE key_a = ? AND key_b = ?", -1, &stmt,
                     nullptr);
  sqlite3_bind_int64(stmt, 1, std::min(key_a, key_b));
  sqlite3_bind_int64(stmt, 2, std::max(key_a, key_b));
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "review");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(ServerTest, ClusterGroupsTheDuplicatesOfAListing) {
  const Listing& listing = duplicated_listing();
  const auto r = get("/v1/clusters/" + listing.id);
  ASSERT_EQ(r.status, 200) << r.text;
  const auto& members = r.body["members"];
  ASSERT_GE(members.size(), 2u) << r.text;
  EXPECT_EQ(members[0]["id"], listing.id);
  size_t same_product = 0;
  for (const auto& m : members) same_product += product(m["id"]) == product(listing.id);
  EXPECT_GE(same_product, 2u) << r.text;
}

TEST_F(ServerTest, ReviewQueueAndPage) {
  const auto r = get("/v1/review/queue?n=5");
  ASSERT_EQ(r.status, 200) << r.text;
  ASSERT_LE(r.body["pairs"].size(), 5u);
  ASSERT_GE(r.body["pairs"].size(), 1u);
  const float threshold = r.body["threshold"];
  float last_distance = 0;
  for (const auto& pair : r.body["pairs"]) {
    EXPECT_NE(pair["a"]["id"], pair["b"]["id"]);
    const float distance = std::abs(pair["confidence"].get<float>() - threshold);
    EXPECT_GE(distance, last_distance);
    last_distance = distance;
  }
  const auto page = server_->client().Get("/review");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->get_header_value("Content-Type"), HasSubstr("text/html"));
  EXPECT_THAT(page->body, HasSubstr("/v1/review/queue"));
  EXPECT_THAT(page->body, HasSubstr("</html>"));
}

TEST_F(ServerTest, TheReviewQueueLeavesOutPairsLabelledByAnyProcess) {
  const ServerState state(ws());
  // Every candidate pair of one window over the whole catalog.
  const size_t all = catalog_->listings.size() + 100, every_pair = 1'000'000;
  const auto before = state.review_queue(every_pair, all);
  ASSERT_GE(before.size(), 2u);
  // Stored through another connection, as `doppel ingest` would while the server runs.
  auto catalog = CatalogStore::open(ws() / "catalog.db");
  catalog.add_labels({{before[0].a.id, before[0].b.id, true, "train"}});
  const auto after = state.review_queue(every_pair, all);
  const auto same_pair = [&](const ReviewPair& p) {
    return (p.a.id == before[0].a.id && p.b.id == before[0].b.id) ||
           (p.a.id == before[0].b.id && p.b.id == before[0].a.id);
  };
  EXPECT_EQ(std::count_if(after.begin(), after.end(), same_pair), 0);
  EXPECT_EQ(std::count_if(before.begin(), before.end(), same_pair), 1);
  EXPECT_EQ(after.size(), before.size() - 1);
}

// The server reads each match's candidates from catalog.db and featurises them apart from the
// rest of the catalog; `doppel dedup` featurises the whole catalog at once. Same scores.
TEST_F(ServerTest, MatchScoresAreThoseOfTheWholeCatalogFeaturizer) {
  const ServerState state(ws());
  const Workspace workspace = Workspace::open(ws());
  const auto models = MatchModels::load(workspace, /*need_decider=*/true, /*need_index=*/false);
  const auto encoder = load_vector_encoder(workspace, TextEncoderChoice::kAuto);
  size_t compared = 0;
  for (size_t i = 0; i < catalog_->listings.size(); i += 7) {
    Listing query;
    query.title = catalog_->listings[i].title + " new";
    const auto candidates = state.match(query, 5, 0);
    ASSERT_FALSE(candidates.empty()) << query.title;
    std::vector<float> vector(encoder->dim());
    encoder->encode(std::span(&query, 1), vector.data());
    std::vector<int64_t> keys;
    for (const auto& c : candidates) keys.push_back(c.listing.key);
    const auto x = models.featurizer->features_against(query, vector, keys);
    const auto expected = models.decider->predict(x.data(), keys.size());
    for (size_t c = 0; c < keys.size(); ++c, ++compared)
      EXPECT_EQ(candidates[c].confidence, expected[c]) << query.title;
  }
  EXPECT_GT(compared, 20u);
}

TEST_F(ServerTest, WritesSurviveARestartWithoutASavedIndex) {
  server_.reset();  // saved at stop; what follows is never saved
  {
    ServerState state(ws());
    Listing listing;
    listing.id = "durable-1";
    listing.title = "Durable gizmo DG-77 titanium";
    state.upsert(listing);
    EXPECT_TRUE(state.remove(catalog_->listings[2].id));
  }  // dropped like a kill: the index file is older than catalog.db
  ServerState state(ws());
  ASSERT_TRUE(state.listing("durable-1"));
  EXPECT_FALSE(state.listing(catalog_->listings[2].id));
  Listing query;
  query.title = "durable gizmo DG-77";
  EXPECT_EQ(state.match(query, 3, 0).at(0).listing.id, "durable-1");
  const auto stats = state.stats();
  EXPECT_EQ(stats.indexed, stats.listings);
}

TEST_F(ServerTest, MatchesRunWhileListingsAreWritten) {
  const size_t before = get("/health").body["listings"];
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  std::atomic<bool> writing{true};
  for (int t = 0; t < 3; ++t)
    readers.emplace_back([&, t] {
      auto client = server_->client();
      int i = 0;
      while (writing || i < 5) {
        const json body = {{"title", catalog_->listings[(t * 7 + i++) % 50].title}};
        auto res = client.Post("/v1/match", body.dump(), "application/json");
        if (!res || res->status != 200) ++failures;
      }
    });
  for (int i = 0; i < 20; ++i) {
    const auto r = put("/v1/listings/concurrent-" + std::to_string(i),
                       {{"title", "Concurrent widget number " + std::to_string(i)}});
    if (r.status != 201) ++failures;
  }
  writing = false;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures, 0);
  const auto health = get("/health");
  EXPECT_EQ(health.body["listings"], before + 20);
  EXPECT_EQ(health.body["indexed"], before + 20);
}

// Fuzz smoke: malformed, truncated, huge and wrongly typed bodies on every JSON route never get
// a 5xx and leave the server healthy. (A longer run: DOPPEL_FUZZ_ROUNDS=100000.)
TEST_F(ServerTest, FuzzedBodiesNeverCrashTheServer) {
  const char* env = std::getenv("DOPPEL_FUZZ_ROUNDS");
  const int rounds = env ? std::atoi(env) : 300;
  const std::string valid =
      R"({"title": "Sony DSC-W120 camera", "brand": "Sony", "price": 99.5, "k": 3})";
  const std::vector<json> wrong_values = {nullptr,
                                          1,
                                          -1,
                                          1e308,
                                          true,
                                          "",
                                          json::array(),
                                          json::object(),
                                          std::string(3000, 'z'),
                                          json::array({1, 2, 3})};
  const std::vector<std::string> fields = {"title", "brand", "price", "k",  "image",
                                           "id_a",  "id_b",  "match", "id", "description"};
  std::mt19937 rng(1234);
  auto client = server_->client();
  int server_errors = 0;
  for (int round = 0; round < rounds; ++round) {
    std::string body;
    switch (round % 5) {
      case 0:  // truncated
        body = valid.substr(0, rng() % valid.size());
        break;
      case 1: {  // random bytes
        body.resize(rng() % 200);
        for (char& c : body) c = static_cast<char>(rng() % 256);
        break;
      }
      case 2: {  // wrong types
        json j = json::parse(valid);
        j[fields[rng() % fields.size()]] = wrong_values[rng() % wrong_values.size()];
        body = j.dump();
        break;
      }
      case 3:  // deep nesting
        body = std::string(1 + rng() % 5000, '[') + std::string(rng() % 5000, ']');
        break;
      case 4: {  // a valid body with one byte flipped
        body = valid;
        body[rng() % body.size()] = static_cast<char>(rng() % 256);
        break;
      }
    }
    auto send = [&] {
      switch (round % 3) {
        case 0:
          return client.Post("/v1/match", body, "application/json");
        case 1:
          return client.Put("/v1/listings/fuzz-" + std::to_string(round % 7), bearer(), body,
                            "application/json");
        default:
          return client.Post("/v1/labels", bearer(), body, "application/json");
      }
    };
    const auto res = send();
    ASSERT_TRUE(res) << "no answer in round " << round;
    if (res->status >= 500) {
      ++server_errors;
      ADD_FAILURE() << "status " << res->status << " for body " << json(body).dump() << ": "
                    << res->body;
    }
  }
  EXPECT_EQ(server_errors, 0);
  EXPECT_EQ(get("/health").status, 200);
}

TEST_F(ServerTest, AListingThatSharesACodeIsACandidateWhateverItsTitle) {
  ASSERT_EQ(put("/v1/listings/mn-twin", {{"title", "Qwzx vlmk jjhq"}, {"model_number", "ZX-9000Q"}})
                .status,
            201);
  const json query = {
      {"title", "Lumina desk lamp with a brass arm"}, {"model_number", "zx 9000q"}, {"k", 3}};
  // (The title encoder sees the model number too, so the text search may find it as well.)
  const auto by_code = [](const json& sources) {
    return std::find(sources.begin(), sources.end(), "code") != sources.end();
  };
  EXPECT_TRUE(by_code(sources_of(post("/v1/match", query), "mn-twin")));
  // Its model number changed: no longer a candidate by the old one.
  ASSERT_EQ(put("/v1/listings/mn-twin", {{"title", "Qwzx vlmk jjhq"}, {"model_number", "ZX-9001Q"}})
                .status,
            200);
  EXPECT_FALSE(by_code(sources_of(post("/v1/match", query), "mn-twin")));
  json renumbered = query;
  renumbered["model_number"] = "ZX9001Q";
  EXPECT_TRUE(by_code(sources_of(post("/v1/match", renumbered), "mn-twin")));
  // A code in the query's title finds the stored model number, and the other way round.
  const json titled = {{"title", "Lumina lamp ZX-9001Q brass"}, {"k", 3}};
  EXPECT_TRUE(by_code(sources_of(post("/v1/match", titled), "mn-twin")));
  ASSERT_EQ(put("/v1/listings/mn-twin", {{"title", "Qwzx vlmk QP-4412"}}).status, 200);
  EXPECT_FALSE(by_code(sources_of(post("/v1/match", titled), "mn-twin")));
  const json by_title_code = {{"title", "Desk light"}, {"model_number", "qp4412"}, {"k", 3}};
  EXPECT_TRUE(by_code(sources_of(post("/v1/match", by_title_code), "mn-twin")));
  ASSERT_EQ(del("/v1/listings/mn-twin").status, 200);
  EXPECT_TRUE(sources_of(post("/v1/match", by_title_code), "mn-twin").is_null());
}

TEST_F(ServerTest, AMatchOverItsLatencyBudgetIs503AndCounted) {
  const std::string title = catalog_->listings[0].title;
  auto r = post("/v1/match", {{"title", title}, {"deadline_ms", 0}});
  ASSERT_EQ(r.status, 503) << r.text;
  EXPECT_THAT(r.body["error"].get<std::string>(), HasSubstr("deadline exceeded"));
  EXPECT_EQ(r.body["deadline_ms"], 0);
  EXPECT_GE(r.body["elapsed_ms"].get<double>(), 0);
  EXPECT_EQ(r.body["stage"], "embedding the title");
  // A request may not ask for more than the server's budget; within it the match is answered.
  const int budget = ServerOptions{}.deadline_ms;
  r = post("/v1/match", {{"title", title}, {"deadline_ms", 3600000}});
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["deadline_ms"], budget);
  EXPECT_LT(r.body["took_ms"].get<double>(), budget);
  EXPECT_EQ(post("/v1/match", {{"title", title}, {"deadline_ms", -1}}).status, 400);
  const auto metrics = server_->client().Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body, HasSubstr("doppel_deadline_exceeded_total{route=\"POST /v1/match\","
                                       "stage=\"embedding the title\"} 1"));
  EXPECT_THAT(metrics->body,
              HasSubstr("doppel_http_requests_total{route=\"POST /v1/match\",status=\"503\"} 1"));
  ServerOptions bad;
  bad.deadline_ms = 0;
  EXPECT_THROW(bad.validate(), Error);
}

TEST_F(ServerTest, TimeWaitingForAWorkerCountsAgainstTheBudget) {
  server_.reset();
  ServerOptions options;
  options.threads = 1;
  server_ = std::make_unique<RunningServer>(ws(), options);
  server_->wait_ready();
  // A kept-alive connection holds the only worker until its 2 s keep-alive timeout, so the next
  // connection's request waits for a worker longer than its 300 ms budget.
  auto holder = server_->client();
  holder.set_keep_alive(true);
  ASSERT_EQ(holder.Get("/health")->status, 200);
  const auto r = post("/v1/match", {{"title", catalog_->listings[0].title}, {"deadline_ms", 300}});
  ASSERT_EQ(r.status, 503) << r.text;
  EXPECT_GE(r.body["elapsed_ms"].get<double>(), 300);
  EXPECT_EQ(r.body["stage"], "embedding the title");
}

// A workspace whose first listings have photos, with a tiny image encoder whose vectors the
// decider uses: candidates come by text and by image.
class ImageServerTest : public ::testing::Test {
 protected:
  static constexpr int kPhotos = 30;

  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() /
                        ("doppel_image_server_test_" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    build_workspace(*dir_, /*with_decider=*/false);
    auto ws = Workspace::open(*dir_ / "ws");
    auto listings = ws.catalog().all_listings();
    listings.resize(kPhotos);
    for (int i = 0; i < kPhotos; ++i) listings[i].image = write_photo(i).string();
    ws.catalog().upsert(listings);
    pretrain_image_model(ws, testing::quick_mae(4), testing::tiny_config(), testing::tiny_encoder(),
                         {}, /*resume=*/false);
    ASSERT_EQ(embed_images(ws).embedded, static_cast<size_t>(kPhotos));
    train_small_decider(ws);
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  void SetUp() override { start(); }

  void start() {
    ServerOptions options;
    options.token = kToken;
    server_ = std::make_unique<RunningServer>(ws(), options);
    server_->wait_ready();
  }
  static fs::path ws() { return *dir_ / "ws"; }
  // photos/<index>.png in the workspace (the image root): a shape photo of its own.
  static fs::path write_photo(int index) {
    const auto path = ws() / "photos" / (std::to_string(index) + ".png");
    fs::create_directories(path.parent_path());
    write_file_atomic(path, testing::encode(testing::shape_photo(index), ".png"));
    return path;
  }
  Reply match(const json& body) const {
    return to_reply(server_->client().Post("/v1/match", body.dump(), "application/json"));
  }
  Reply put(const std::string& id, const json& body) const {
    return to_reply(
        server_->client().Put("/v1/listings/" + id, bearer(), body.dump(), "application/json"));
  }
  static fs::path* dir_;
  std::unique_ptr<RunningServer> server_;
};

fs::path* ImageServerTest::dir_ = nullptr;

// The photo twin's title shares no word with the query: only the image search can find it.
TEST_F(ImageServerTest, AListingIsFoundByItsPhotoAloneUntilDeleted) {
  const auto health = to_reply(server_->client().Get("/health"));
  EXPECT_EQ(health.body["image_indexed"], kPhotos) << health.text;
  EXPECT_EQ(health.body["image_index_spec"], "Flat");
  const std::string photo = write_photo(1000).filename().string();
  ASSERT_EQ(put("twin", {{"title", "Qwzx vlmk jjhq"}, {"image", "photos/" + photo}}).status, 201);
  const json query = {{"title", "Lumina desk lamp with a brass arm"},
                      {"image", "photos/" + photo},
                      {"k", 3},
                      {"image_k", 3}};
  auto r = match(query);
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_TRUE(r.body["image"]["used"].get<bool>());
  EXPECT_EQ(sources_of(r, "twin"), json({"image"})) << r.text;
  for (const auto& c : r.body["candidates"]) {
    if (c["id"] == "twin") {
      EXPECT_NEAR(c["image_similarity"].get<double>(), 1.0, 1e-4);
    }
  }
  size_t by_text = 0, by_image = 0;
  for (const auto& c : r.body["candidates"]) {
    for (const auto& source : c["sources"]) (source == "text" ? by_text : by_image) += 1;
  }
  EXPECT_EQ(by_text, 3u);
  EXPECT_EQ(by_image, 3u);
  // Without the photo, or with image_k 0, the text search alone does not find it.
  json text_only = query;
  text_only.erase("image");
  EXPECT_TRUE(sources_of(match(text_only), "twin").is_null());
  json no_image_k = query;
  no_image_k["image_k"] = 0;
  EXPECT_TRUE(sources_of(match(no_image_k), "twin").is_null());

  ASSERT_EQ(to_reply(server_->client().Delete("/v1/listings/twin", bearer())).status, 200);
  EXPECT_TRUE(sources_of(match(query), "twin").is_null());
  EXPECT_EQ(to_reply(server_->client().Get("/health")).body["image_indexed"], kPhotos);
}

TEST_F(ImageServerTest, UpsertWithoutAPhotoLeavesTheImageIndex) {
  const std::string photo = "photos/" + write_photo(1001).filename().string();
  ASSERT_EQ(put("twin2", {{"title", "Plokk zzyv"}, {"image", photo}}).status, 201);
  const json query = {{"title", "Lumina desk lamp"}, {"image", photo}, {"k", 3}, {"image_k", 3}};
  EXPECT_EQ(sources_of(match(query), "twin2"), json({"image"}));
  ASSERT_EQ(put("twin2", {{"title", "Plokk zzyv"}}).status, 200);
  EXPECT_TRUE(sources_of(match(query), "twin2").is_null());
  ASSERT_EQ(to_reply(server_->client().Delete("/v1/listings/twin2", bearer())).status, 200);
}

// After a kill, the image index is rebuilt (no saved one) or caught up (a saved one) with every
// acknowledged write.
TEST_F(ImageServerTest, TheImageIndexSurvivesARestartWithoutASave) {
  server_.reset();
  const auto path = write_photo(1002);
  const std::string bytes = read_file(path);
  const cv::Mat photo = decode_image(std::as_bytes(std::span(bytes)), "the test photo");
  Listing query;
  query.title = "Lumina desk lamp";
  const auto found_by_image = [&](const ServerState& state, const std::string& id) {
    for (const auto& c : state.match(query, 3, 3, &photo))
      if (c.listing.id == id) return c.sources == kFoundByImage;
    return false;
  };
  for (const bool saved_index : {false, true}) {
    if (saved_index) {
      auto workspace = Workspace::open(ws());
      build_index(workspace, "Flat", "image");
    }
    const std::string kept = saved_index ? "kept-saved" : "kept", gone = kept + "-gone";
    {
      ServerState state(ws(), workspace_fetcher(Workspace::open(ws())));
      for (const auto& id : {kept, gone}) {
        Listing listing;
        listing.id = id;
        listing.title = "Unrelated words " + id;
        listing.image = path.string();
        state.upsert(listing);
      }
      EXPECT_TRUE(state.remove(gone));
    }  // dropped like a kill: nothing saved
    ServerState state(ws(), workspace_fetcher(Workspace::open(ws())));
    EXPECT_EQ(state.stats().image_index_spec, "Flat");
    EXPECT_TRUE(found_by_image(state, kept)) << (saved_index ? "saved" : "in-memory");
    EXPECT_FALSE(found_by_image(state, gone));
    EXPECT_TRUE(state.remove(kept));
  }
  fs::remove(ws() / "index" / "image.index");
  fs::remove(ws() / "index" / "image.index.json");
  start();
}

}  // namespace
}  // namespace doppel
