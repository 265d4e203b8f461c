#include "server/metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace doppel {

void RequestMetrics::observe(const std::string& route, int status, double seconds) {
  const size_t bucket =
      std::lower_bound(kBuckets.begin(), kBuckets.end(), seconds) - kBuckets.begin();
  std::lock_guard lock(mutex_);
  ++requests_[{route, status}];
  Latency& latency = latency_[route];
  if (bucket < kBuckets.size()) ++latency.buckets[bucket];
  ++latency.count;
  latency.sum += seconds;
}

std::string RequestMetrics::render() const {
  std::lock_guard lock(mutex_);
  std::string out =
      "# HELP doppel_http_requests_total HTTP requests answered, by route and status.\n"
      "# TYPE doppel_http_requests_total counter\n";
  for (const auto& [key, count] : requests_)
    out += fmt::format("doppel_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n",
                       prometheus_label(key.first), key.second, count);
  out +=
      "# HELP doppel_http_request_duration_seconds Time from request parsed to response ready.\n"
      "# TYPE doppel_http_request_duration_seconds histogram\n";
  for (const auto& [route, latency] : latency_) {
    const std::string label = prometheus_label(route);
    uint64_t cumulative = 0;
    for (size_t b = 0; b < kBuckets.size(); ++b) {
      cumulative += latency.buckets[b];
      out +=
          fmt::format("doppel_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                      label, kBuckets[b], cumulative);
    }
    out += fmt::format(
        "doppel_http_request_duration_seconds_bucket{{route=\"{0}\",le=\"+Inf\"}} {1}\n"
        "doppel_http_request_duration_seconds_sum{{route=\"{0}\"}} {2}\n"
        "doppel_http_request_duration_seconds_count{{route=\"{0}\"}} {1}\n",
        label, latency.count, latency.sum);
  }
  return out;
}

std::string prometheus_label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace doppel
