// The HTTP routes of `doppel serve` (docs/server.md) on a cpp-httplib server. One wrapper does
// what every route needs: 503 until the workspace is loaded, the bearer token on mutating
// routes, JSON errors {"error": "..."} with the status of the HttpError (any other doppel::Error
// is a 400, anything else a logged 500 without details), and the per-route metrics.
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "server/metrics.h"
#include "server/request_image.h"
#include "server/server_options.h"
#include "server/server_state.h"

namespace doppel {

// What the routes share: the options, the metrics, and the state once it is loaded.
class ServiceContext {
 public:
  ServiceContext(ServerOptions options, ImageFetcherOptions images);

  const ServerOptions& options() const { return options_; }
  RequestMetrics& metrics() { return metrics_; }
  const RequestImages& images() const { return images_; }

  // The loaded state, or nullptr while loading (or when loading failed).
  std::shared_ptr<ServerState> state() const { return std::atomic_load(&state_); }
  void set_state(std::shared_ptr<ServerState> state) {
    std::atomic_store(&state_, std::move(state));
  }
  void set_load_error(std::string error);
  std::string load_error() const;

 private:
  ServerOptions options_;
  RequestMetrics metrics_;
  RequestImages images_;
  std::shared_ptr<ServerState> state_;
  mutable std::mutex error_mutex_;
  std::string load_error_;
};

void add_routes(httplib::Server& server, ServiceContext& context);

}  // namespace doppel
