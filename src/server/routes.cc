#include "server/routes.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>

#include "server/auth.h"
#include "server/http_error.h"
#include "server/json_api.h"
#include "server/review_page.h"
#include "server/worker_pool.h"

namespace doppel {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kJson = "application/json";
constexpr const char* kMatchRoute = "POST /v1/match";

void reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n", kJson);
}

void reply_error(httplib::Response& res, int status, std::string_view message) {
  reply(res, status, json{{"error", message}});
}

void require_json(const httplib::Request& req) {
  const std::string type = req.get_header_value("Content-Type");
  if (type.substr(0, type.find(';')) != kJson)
    fail_http(415, "Content-Type must be {}, got '{}'", kJson, type.substr(0, 64));
}

enum class Access { kPublic, kToken };

struct Route {
  const char* method;
  std::string name;     // for metrics and logs, e.g. "GET /v1/listings/{id}"
  std::string pattern;  // httplib regex
  Access access;
  bool needs_state;
};

using Handler = std::function<void(const httplib::Request&, httplib::Response&, ServerState*)>;

void check_token(const httplib::Request& req, const std::string& token) {
  switch (check_bearer(req.get_header_value("Authorization"), token)) {
    case AuthResult::kOk:
      return;
    case AuthResult::kMissing:
      fail_http(401, "this route needs an Authorization: Bearer <token> header");
    case AuthResult::kWrong:
      fail_http(401, "wrong bearer token");
    case AuthResult::kNotConfigured:
      fail_http(401,
                "this server has no token (start it with --token-file or DOPPEL_TOKEN), "
                "so writes are disabled");
  }
}

void add(httplib::Server& server, ServiceContext& context, const Route& route, Handler handler) {
  auto wrapped = [&context, route, handler](const httplib::Request& req, httplib::Response& res) {
    start_request();
    const auto start = Clock::now();
    try {
      std::shared_ptr<ServerState> state;
      if (route.needs_state) {
        state = context.state();
        if (!state) fail_http(503, "the workspace is still loading");
      }
      if (route.access == Access::kToken) {
        res.set_header("WWW-Authenticate", "Bearer");
        check_token(req, context.options().token);
      }
      handler(req, res, state.get());
    } catch (const HttpError& e) {
      reply_error(res, e.status(), e.what());
    } catch (const Error& e) {
      reply_error(res, 400, e.what());
    } catch (const std::exception& e) {
      spdlog::error("{} failed: {}", route.name, e.what());
      reply_error(res, 500, "internal error (logged by the server)");
    }
    context.metrics().observe(route.name, res.status,
                              std::chrono::duration<double>(Clock::now() - start).count());
  };
  const std::string method = route.method;
  if (method == "GET") server.Get(route.pattern, wrapped);
  if (method == "POST") server.Post(route.pattern, wrapped);
  if (method == "PUT") server.Put(route.pattern, wrapped);
  if (method == "DELETE") server.Delete(route.pattern, wrapped);
}

// The query parameter `name` as an integer in [min, max], or `fallback` when absent; 400 else.
int query_int(const httplib::Request& req, const char* name, int fallback, int min, int max) {
  if (!req.has_param(name)) return fallback;
  const std::string text = req.get_param_value(name);
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max)
    fail_http(400, "parameter '{}' must be an integer in [{}, {}]", name, min, max);
  return value;
}

std::string path_id(const httplib::Request& req) {
  std::string id = req.matches[1];
  validate_listing_id(id);
  return id;
}

std::string gauges(const ServerStats& s) {
  return fmt::format(
      "# TYPE doppel_ready gauge\ndoppel_ready 1\n"
      "# TYPE doppel_listings gauge\ndoppel_listings {}\n"
      "# TYPE doppel_index_vectors gauge\ndoppel_index_vectors {}\n"
      "# TYPE doppel_image_index_vectors gauge\ndoppel_image_index_vectors {}\n"
      "# TYPE doppel_vector_log_seq gauge\ndoppel_vector_log_seq {}\n"
      "# HELP doppel_model_info The models being served.\n# TYPE doppel_model_info gauge\n"
      "doppel_model_info{{text_encoder=\"{}\",index_spec=\"{}\",decider_models=\"{}\","
      "decider_threshold=\"{:.4f}\"}} 1\n",
      s.listings, s.indexed, s.image_indexed, s.vector_log_seq, prometheus_label(s.text_encoder),
      prometheus_label(s.index_spec), s.decider_models, s.threshold);
}

json stats_json(const ServerStats& s) {
  return {{"status", "ok"},
          {"listings", s.listings},
          {"indexed", s.indexed},
          {"index_spec", s.index_spec},
          {"image_indexed", s.image_indexed},
          {"image_index_spec", s.image_index_spec.empty() ? json() : json(s.image_index_spec)},
          {"text_encoder", s.text_encoder},
          {"image_encoder", s.image_encoder.empty() ? json() : json(s.image_encoder)},
          {"threshold", s.threshold},
          {"vector_log_seq", s.vector_log_seq}};
}

std::string image_content_type(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "image/jpeg";
    case ImageFormat::kPng:
      return "image/png";
    case ImageFormat::kWebp:
      return "image/webp";
  }
  return "application/octet-stream";
}

}  // namespace

ServiceContext::ServiceContext(ServerOptions options, ImageFetcherOptions images)
    : options_(std::move(options)), images_(std::move(images)) {}

void ServiceContext::set_load_error(std::string error) {
  std::lock_guard lock(error_mutex_);
  load_error_ = std::move(error);
}

std::string ServiceContext::load_error() const {
  std::lock_guard lock(error_mutex_);
  return load_error_;
}

void add_routes(httplib::Server& server, ServiceContext& context) {
  const std::string id = "/([^/]+)";
  const ServerOptions& options = context.options();

  add(server, context, {"GET", "GET /health", "/health", Access::kPublic, false},
      [&context](const auto&, auto& res, ServerState*) {
        if (auto state = context.state()) return reply(res, 200, stats_json(state->stats()));
        const std::string error = context.load_error();
        if (!error.empty()) return reply(res, 503, {{"status", "failed"}, {"error", error}});
        reply(res, 503, {{"status", "loading"}});
      });

  add(server, context, {"GET", "GET /metrics", "/metrics", Access::kPublic, false},
      [&context](const auto&, auto& res, ServerState*) {
        auto state = context.state();
        std::string text =
            state ? gauges(state->stats()) : "# TYPE doppel_ready gauge\ndoppel_ready 0\n";
        res.set_content(text + context.metrics().render(), "text/plain; version=0.0.4");
      });

  add(server, context, {"POST", kMatchRoute, "/v1/match", Access::kPublic, true},
      [&context, &options](const auto& req, auto& res, ServerState* state) {
        require_json(req);
        const json body = parse_object(req.body);
        const Listing query = listing_from_json(body, {"k", "image_k", "deadline_ms"});
        const int k = int_field(body, "k", options.k, 1, options.max_k);
        const int image_k = int_field(body, "image_k", options.image_k, 0, options.max_k);
        const int budget_ms = std::min(
            options.deadline_ms, int_field(body, "deadline_ms", options.deadline_ms, 0, 3600000));
        const Deadline deadline(request_waiting_since(), std::chrono::milliseconds(budget_ms));
        try {
          json image = nullptr;
          cv::Mat photo;
          if (!query.image.empty()) {
            deadline.check("fetching the photo");
            const auto fetched = context.images().fetch(query.image);
            image = {{"format", format_name(fetched.header.format)},
                     {"width", fetched.header.width},
                     {"height", fetched.header.height},
                     {"used", state->uses_images()}};
            if (state->uses_images()) {
              photo = decode_image(std::as_bytes(std::span(fetched.bytes)), "the request's image");
            } else {
              image["reason"] = "this workspace has no image encoder; matched by text";
            }
          }
          const auto candidates =
              state->match(query, k, image_k, photo.empty() ? nullptr : &photo, &deadline);
          reply(res, 200,
                {{"candidates", candidates_json(candidates, /*with_sources=*/true)},
                 {"threshold", state->threshold()},
                 {"k", k},
                 {"image_k", image_k},
                 {"image", image},
                 {"deadline_ms", budget_ms},
                 {"took_ms", deadline.elapsed_ms()}});
        } catch (const DeadlineExceeded& e) {
          context.metrics().deadline_exceeded(kMatchRoute, e.stage());
          reply(res, 503,
                {{"error", e.what()},
                 {"deadline_ms", e.budget_ms()},
                 {"elapsed_ms", e.elapsed_ms()},
                 {"stage", e.stage()}});
        }
      });

  add(server, context, {"GET", "GET /v1/listings/{id}", "/v1/listings" + id, Access::kPublic, true},
      [](const auto& req, auto& res, ServerState* state) {
        const std::string listing_id = path_id(req);
        const auto listing = state->listing(listing_id);
        if (!listing) fail_http(404, "no listing with id '{}'", listing_id);
        reply(res, 200, listing_to_json(*listing));
      });

  add(server, context,
      {"GET", "GET /v1/listings/{id}/image", "/v1/listings" + id + "/image", Access::kPublic, true},
      [&context](const auto& req, auto& res, ServerState* state) {
        const std::string listing_id = path_id(req);
        const auto listing = state->listing(listing_id);
        if (!listing) fail_http(404, "no listing with id '{}'", listing_id);
        if (listing->image.empty()) fail_http(404, "listing '{}' has no image", listing_id);
        RequestImages::Image image;
        try {
          image = context.images().fetch(listing->image);
        } catch (const Error& e) {
          fail_http(404, "the image of listing '{}' is unavailable: {}", listing_id, e.what());
        }
        res.set_header("Cache-Control", "max-age=300");
        res.set_content(image.bytes, image_content_type(image.header.format).c_str());
      });

  add(server, context, {"PUT", "PUT /v1/listings/{id}", "/v1/listings" + id, Access::kToken, true},
      [&context](const auto& req, auto& res, ServerState* state) {
        const std::string listing_id = path_id(req);
        require_json(req);
        const json body = parse_object(req.body);
        Listing listing = listing_from_json(body, {"id"});
        if (auto it = body.find("id"); it != body.end() && *it != listing_id)
          fail_http(400, "field 'id' differs from the id in the path ('{}')", listing_id);
        listing.id = listing_id;
        if (!listing.image.empty()) context.images().check_stored_reference(listing.image);
        bool created = false;
        const Listing stored = state->upsert(std::move(listing), &created);
        json out = listing_to_json(stored);
        out["created"] = created;
        reply(res, created ? 201 : 200, out);
      });

  add(server, context,
      {"DELETE", "DELETE /v1/listings/{id}", "/v1/listings" + id, Access::kToken, true},
      [](const auto& req, auto& res, ServerState* state) {
        const std::string listing_id = path_id(req);
        if (!state->remove(listing_id)) fail_http(404, "no listing with id '{}'", listing_id);
        reply(res, 200, {{"deleted", listing_id}});
      });

  add(server, context, {"GET", "GET /v1/clusters/{id}", "/v1/clusters" + id, Access::kPublic, true},
      [](const auto& req, auto& res, ServerState* state) {
        const std::string listing_id = path_id(req);
        const auto members = state->cluster(listing_id);
        if (!members) fail_http(404, "no listing with id '{}'", listing_id);
        reply(res, 200, {{"id", listing_id}, {"members", candidates_json(*members)}});
      });

  add(server, context, {"POST", "POST /v1/labels", "/v1/labels", Access::kToken, true},
      [](const auto& req, auto& res, ServerState* state) {
        require_json(req);
        const json body = parse_object(req.body);
        for (const auto& [name, value] : body.items())
          if (name != "id_a" && name != "id_b" && name != "match")
            fail_http(400, "unknown field '{}'", name.substr(0, 64));
        std::string ids[2];
        for (int i = 0; i < 2; ++i) {
          const char* field = i == 0 ? "id_a" : "id_b";
          auto it = body.find(field);
          if (it == body.end() || !it->is_string())
            fail_http(400, "field '{}' is required and must be a string", field);
          ids[i] = it->template get<std::string>();
          validate_listing_id(ids[i]);
        }
        auto match = body.find("match");
        if (match == body.end() || !match->is_boolean())
          fail_http(400, "field 'match' is required and must be true or false");
        for (const auto& listing_id : ids)
          if (!state->listing(listing_id)) fail_http(404, "no listing with id '{}'", listing_id);
        state->add_label(ids[0], ids[1], match->template get<bool>());
        reply(res, 201,
              {{"id_a", ids[0]}, {"id_b", ids[1]}, {"match", *match}, {"source", "review"}});
      });

  add(server, context, {"GET", "GET /v1/review/queue", "/v1/review/queue", Access::kPublic, true},
      [&options](const auto& req, auto& res, ServerState* state) {
        const int n = query_int(req, "n", 20, 1, 200);
        json pairs = json::array();
        for (const auto& pair : state->review_queue(n, options.review_sample))
          pairs.push_back({{"a", listing_to_json(pair.a)},
                           {"b", listing_to_json(pair.b)},
                           {"confidence", pair.confidence}});
        reply(res, 200, {{"threshold", state->threshold()}, {"pairs", pairs}});
      });

  add(server, context, {"GET", "GET /review", "/review", Access::kPublic, false},
      [](const auto&, auto& res, ServerState*) {
        res.set_content(std::string(review_page_html()), "text/html; charset=utf-8");
      });

  // Whatever no route answered (unknown path: 404; a body over the limit: 413) gets a JSON error.
  server.set_error_handler([&context](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string message =
        res.status == 404   ? fmt::format("no route {} {}", req.method, req.path.substr(0, 100))
        : res.status == 413 ? fmt::format("request body larger than the {} bytes allowed",
                                          context.options().max_body_bytes)
                            : fmt::format("request failed with status {}", res.status);
    reply_error(res, res.status, message);
    context.metrics().observe("other", res.status, 0);
  });
}

}  // namespace doppel
