// doppel serve: the online service over a trained, indexed workspace (src/server).
#include <CLI/CLI.hpp>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <thread>

#include "server/auth.h"
#include "server/http_server.h"
#include "tools/doppel/commands.h"

namespace doppel {
namespace {

// Serves until SIGINT or SIGTERM, then stops gracefully (requests in flight finish, the index is
// saved). The signals are blocked in every thread and taken by one waiting thread, so that
// stopping runs as ordinary code rather than inside a signal handler.
void serve_until_signalled(const std::string& ws, const ServerOptions& options) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts: they inherit it

  DoppelServer server(ws, options);
  const int port = server.bind();
  spdlog::info("listening on http://{}:{} (workers: {}); loading {}", options.host, port,
               options.threads, ws);
  std::thread waiter([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    spdlog::info("{}: stopping", signal == SIGINT ? "SIGINT" : "SIGTERM");
    server.stop();
  });
  auto release_waiter = [&] {
    pthread_kill(waiter.native_handle(), SIGTERM);  // no-op stop when it already took a signal
    waiter.join();
  };
  try {
    server.run();
  } catch (...) {
    release_waiter();
    throw;
  }
  release_waiter();
}

}  // namespace

void add_serve(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "serve", "Serve matching, listing upserts, labels and the review page over HTTP");
  static std::string ws, token_file, image_root;
  static ServerOptions options;
  cmd->add_option("workspace", ws, "Workspace folder (trained and indexed)")->required();
  cmd->add_option("--host", options.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", options.port, "Port (0: any free port)")->capture_default_str();
  cmd->add_option("--token-file", token_file,
                  "File whose first line is the bearer token of mutating routes "
                  "(default: $DOPPEL_TOKEN; none: writes are refused)");
  cmd->add_option("--threads", options.threads, "HTTP worker threads")->capture_default_str();
  cmd->add_option("--k", options.k, "Candidates per match when a request names none")
      ->capture_default_str();
  cmd->add_option("--image-root", image_root,
                  "Folder that local image paths must stay inside (default: the workspace)");
  cmd->add_option("--max-body-bytes", options.max_body_bytes, "Largest request body")
      ->capture_default_str();
  cmd->add_option("--max-image-bytes", options.max_image_bytes, "Largest image")
      ->capture_default_str();
  cmd->callback([] {
    options.token = load_token(token_file);
    options.image_root = image_root;
    if (options.token.empty())
      spdlog::warn("no token (--token-file or DOPPEL_TOKEN): mutating routes are refused");
    serve_until_signalled(ws, options);
  });
}

}  // namespace doppel
