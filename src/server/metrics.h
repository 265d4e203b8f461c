// Request metrics in the Prometheus text format: a count per route and status, and a latency
// histogram per route. Routes are the patterns ("GET /v1/listings/{id}"), never raw paths, so
// the number of series stays bounded whatever clients send. Thread-safe.
#pragma once

#include <array>
#include <map>
#include <mutex>
#include <string>

namespace doppel {

class RequestMetrics {
 public:
  // Upper bounds of the latency buckets, in seconds (+Inf is implied).
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
                                                      0.05,   0.1,   0.2,   0.5,   1.0,  5.0};

  void observe(const std::string& route, int status, double seconds);
  // A request that ran out of its latency budget before `stage` (one of a fixed few).
  void deadline_exceeded(const std::string& route, const std::string& stage);

  // doppel_http_requests_total{route,status}, doppel_http_request_duration_seconds{route},
  // doppel_deadline_exceeded_total{route,stage}.
  std::string render() const;

 private:
  struct Latency {
    std::array<uint64_t, kBuckets.size()> buckets{};  // not cumulative; summed when rendered
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Latency> latency_;
  std::map<std::pair<std::string, std::string>, uint64_t> deadline_exceeded_;
};

// A label value escaped for the exposition format (backslash, quote, newline).
std::string prometheus_label(std::string_view value);

}  // namespace doppel
