#include "server/load_generator.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "util/error.h"

namespace doppel {
namespace {

using Clock = std::chrono::steady_clock;

struct ClientResults {
  std::vector<double> match_ms, upsert_ms;
  size_t match_errors = 0, upsert_errors = 0;
};

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const size_t at = static_cast<size_t>(q * (sorted.size() - 1) + 0.5);
  return sorted[std::min(at, sorted.size() - 1)];
}

void run_client(const LoadOptions& options, std::span<const std::string> titles,
                std::span<const std::string> images, int client, Clock::time_point deadline,
                std::atomic<size_t>& sent, ClientResults& out) {
  httplib::Client http(options.host, options.port);
  http.set_keep_alive(true);
  http.set_tcp_nodelay(true);  // else Nagle + delayed ACK add ~40 ms to every request
  http.set_read_timeout(30);
  const httplib::Headers auth = {{"Authorization", "Bearer " + options.token}};
  std::mt19937 rng(options.seed * 7919u + static_cast<unsigned>(client));
  std::uniform_real_distribution<double> coin(0, 1);
  for (size_t n = 0; Clock::now() < deadline; ++n) {
    if (options.max_requests > 0 && sent.fetch_add(1) >= options.max_requests) break;
    const std::string& title = titles[rng() % titles.size()];
    const bool write = coin(rng) < options.write_fraction;
    nlohmann::json body = {{"title", write ? title + " v" + std::to_string(n) : title}};
    if (!write) body["k"] = options.k;
    if (!images.empty()) body["image"] = images[rng() % images.size()];
    const auto start = Clock::now();
    httplib::Result res =
        write ? http.Put(fmt::format("/v1/listings/load-{}-{}-{}", options.seed, client, n), auth,
                         body.dump(), "application/json")
              : http.Post("/v1/match", body.dump(), "application/json");
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    const bool ok = res && (res->status == 200 || res->status == 201);
    (write ? out.upsert_ms : out.match_ms).push_back(ms);
    if (!ok) ++(write ? out.upsert_errors : out.match_errors);
  }
}

}  // namespace

void LoadOptions::validate() const {
  if (host != "127.0.0.1" && host != "::1" && host != "localhost")
    fail("--host must be a loopback address (127.0.0.1, ::1, localhost), got '{}'", host);
  if (port < 1 || port > 65535) fail("--port must be in [1, 65535], got {}", port);
  if (connections < 1 || connections > 64)
    fail("--connections must be in [1, 64], got {}", connections);
  if (!(seconds > 0) || seconds > 3600) fail("--seconds must be in (0, 3600], got {}", seconds);
  if (!(write_fraction >= 0 && write_fraction <= 1))
    fail("--write-fraction must be in [0, 1], got {}", write_fraction);
  if (write_fraction > 0 && token.empty()) fail("upserts need the server's token");
  if (k < 1) fail("--k must be at least 1, got {}", k);
}

LatencySummary summarise_latencies(std::vector<double>& ms, size_t errors) {
  std::sort(ms.begin(), ms.end());
  LatencySummary s;
  s.requests = ms.size();
  s.errors = errors;
  s.p50_ms = percentile(ms, 0.50);
  s.p90_ms = percentile(ms, 0.90);
  s.p99_ms = percentile(ms, 0.99);
  s.max_ms = ms.empty() ? 0 : ms.back();
  return s;
}

LoadReport run_load(const LoadOptions& options, std::span<const std::string> titles,
                    std::span<const std::string> images) {
  options.validate();
  if (titles.empty()) fail("no titles to send");
  std::vector<ClientResults> results(options.connections);
  std::atomic<size_t> sent{0};
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(options.seconds));
  std::vector<std::thread> clients;
  for (int c = 0; c < options.connections; ++c)
    clients.emplace_back(run_client, std::cref(options), titles, images, c, deadline,
                         std::ref(sent), std::ref(results[c]));
  for (auto& t : clients) t.join();
  LoadReport report;
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> match_ms, upsert_ms;
  size_t match_errors = 0, upsert_errors = 0;
  for (auto& r : results) {
    match_ms.insert(match_ms.end(), r.match_ms.begin(), r.match_ms.end());
    upsert_ms.insert(upsert_ms.end(), r.upsert_ms.begin(), r.upsert_ms.end());
    match_errors += r.match_errors;
    upsert_errors += r.upsert_errors;
  }
  report.match = summarise_latencies(match_ms, match_errors);
  report.upsert = summarise_latencies(upsert_ms, upsert_errors);
  return report;
}

}  // namespace doppel
