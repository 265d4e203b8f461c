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

void RequestMetrics::deadline_exceeded(const std::string& route, const std::string& stage) {
  std::lock_guard lock(mutex_);
  ++deadline_exceeded_[{route, stage}];
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
  out +=
      "# HELP doppel_deadline_exceeded_total Requests answered 503 because their latency budget "
      "ran out, by route and the stage they had reached.\n"
      "# TYPE doppel_deadline_exceeded_total counter\n";
  for (const auto& [key, count] : deadline_exceeded_)
    out += fmt::format("doppel_deadline_exceeded_total{{route=\"{}\",stage=\"{}\"}} {}\n",
                       prometheus_label(key.first), prometheus_label(key.second), count);
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
