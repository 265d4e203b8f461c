// DoppelServer — `doppel serve`: binds the socket at once, loads the workspace in the background
// (GET /health answers 503 until it is loaded), serves the routes of routes.h with a pool of
// worker threads, and on stop() finishes the requests in flight and saves the index.
#pragma once

#include <httplib.h>

#include <atomic>
#include <filesystem>

#include "server/routes.h"
#include "server/server_options.h"

namespace doppel {

class DoppelServer {
 public:
  DoppelServer(std::filesystem::path workspace, ServerOptions options);

  // Binds host:port; returns the port (the one chosen when options.port is 0). Error naming the
  // address when it cannot.
  int bind();
  // Serves until stop(), then saves the index. Error when the workspace could not be loaded (the
  // server stops itself then, after /health has reported the error).
  void run();
  // Stops accepting connections; requests in flight finish. Callable from any thread, any time.
  void stop();
  bool ready() const { return context_.state() != nullptr; }

 private:
  std::filesystem::path workspace_;
  ServiceContext context_;
  httplib::Server http_;
  std::atomic<bool> stop_requested_{false};
};

}  // namespace doppel
