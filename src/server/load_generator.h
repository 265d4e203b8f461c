// A bounded, closed-loop load generator for `doppel serve` (`doppel bench serve`): `connections`
// clients on their own threads each send one request, wait for the answer, and send the next,
// until `seconds` have passed or `max_requests` were sent. Requests are POST /v1/match with
// titles drawn from a list, and, for the share `write_fraction`, PUT /v1/listings/{id} upserts
// of new listings (mixed load). Given image references, every request also carries one drawn
// from them (the server fetches and embeds it). Only loopback hosts are accepted: this measures the
// server, it is not a tool to load someone else's.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace doppel {

struct LoadOptions {
  std::string host = "127.0.0.1";  // 127.0.0.1, ::1 or localhost only
  int port = 8080;
  int connections = 2;
  double seconds = 10;
  size_t max_requests = 0;    // 0: no limit besides `seconds`
  double write_fraction = 0;  // [0, 1]: share of requests that are upserts (need `token`)
  std::string token;
  int k = 10;
  unsigned seed = 1;

  void validate() const;  // Error naming the field
};

struct LatencySummary {
  size_t requests = 0;
  size_t errors = 0;  // no answer, or a status other than 200/201
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
};

struct LoadReport {
  double seconds = 0;  // wall time of the run
  LatencySummary match, upsert;
  double match_qps() const { return seconds > 0 ? match.requests / seconds : 0; }
  double upsert_qps() const { return seconds > 0 ? upsert.requests / seconds : 0; }
};

// Runs the load with `titles` as match queries and upsert titles, and `images` (references the
// server can read; may be empty) as their photos. Error when options are invalid or titles is
// empty.
LoadReport run_load(const LoadOptions& options, std::span<const std::string> titles,
                    std::span<const std::string> images = {});

// The summary of a set of latencies in milliseconds (sorted in place).
LatencySummary summarise_latencies(std::vector<double>& ms, size_t errors);

}  // namespace doppel
