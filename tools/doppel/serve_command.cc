// doppel serve: the online service over a trained, indexed workspace (src/server).
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <sstream>
#include <thread>

#include "server/auth.h"
#include "server/http_server.h"
#include "server/load_generator.h"
#include "server/synthetic_image_vectors.h"
#include "tools/doppel/commands.h"
#include "util/files.h"

namespace doppel {
namespace {

sigset_t stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

// Serves until SIGINT or SIGTERM, then stops gracefully (requests in flight finish, the index is
// saved). The signals are blocked in every thread (block_stop_signals, called by main before any
// thread pool starts) and taken by one waiting thread, so that stopping runs as ordinary code
// rather than inside a signal handler.
void serve_until_signalled(const std::string& ws, const ServerOptions& options) {
  block_stop_signals();
  const sigset_t signals = stop_signals();

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

// The non-empty lines of a text file.
std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream text(read_file(path));
  for (std::string line; std::getline(text, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

}  // namespace

void block_stop_signals() {
  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

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
  cmd->add_option("--image-k", options.image_k,
                  "Candidates by image per match that carries a photo (0: text only)")
      ->capture_default_str();
  cmd->add_option("--deadline-ms", options.deadline_ms,
                  "Latency budget of a match (a request may ask for less); 503 when spent")
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

void add_bench_serve(CLI::App& bench) {
  auto* cmd = bench.add_subcommand(
      "serve", "Load a running doppel serve on this machine: match (and upsert) QPS and latency");
  static LoadOptions options;
  static std::string titles_file, images_file, token_file;
  cmd->add_option("--titles", titles_file, "Text file of match titles, one per line")->required();
  cmd->add_option("--images", images_file,
                  "Text file of image references the server can read, one per line: every "
                  "request carries one");
  cmd->add_option("--host", options.host, "Loopback address of the server")->capture_default_str();
  cmd->add_option("--port", options.port, "Port of the server")->required();
  cmd->add_option("--connections", options.connections, "Concurrent closed-loop clients")
      ->capture_default_str();
  cmd->add_option("--seconds", options.seconds, "Duration")->capture_default_str();
  cmd->add_option("--max-requests", options.max_requests, "Stop after this many (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--write-fraction", options.write_fraction,
                  "Share of requests that upsert a new listing (needs --token-file)")
      ->capture_default_str();
  cmd->add_option("--token-file", token_file, "The server's token file (for upserts)");
  cmd->add_option("--k", options.k, "Candidates per match")->capture_default_str();
  cmd->callback([] {
    if (!token_file.empty()) options.token = load_token(token_file);
    const auto titles = read_lines(titles_file);
    const auto images = images_file.empty() ? std::vector<std::string>() : read_lines(images_file);
    const auto report = run_load(options, titles, images);
    auto print = [&](const char* what, const LatencySummary& s, double qps) {
      if (s.requests == 0) return;
      fmt::print(
          "{:<7} {:>8} requests {:>9.1f}/s  p50 {:>7.2f} ms  p90 {:>7.2f} ms  p99 {:>7.2f} ms"
          "  max {:>8.2f} ms  errors {}\n",
          what, s.requests, qps, s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms, s.errors);
    };
    fmt::print("{} connection(s), {:.1f} s\n", options.connections, report.seconds);
    print("match", report.match, report.match_qps());
    print("upsert", report.upsert, report.upsert_qps());
  });
}

void add_bench_fill_image_vectors(CLI::App& bench) {
  auto* cmd = bench.add_subcommand(
      "fill-image-vectors",
      "For load tests: give every listing without an image vector a synthetic one (a really "
      "embedded pool photo's vector plus noise)");
  static std::string ws, photos_file;
  static SyntheticImageOptions options;
  cmd->add_option("workspace", ws, "Workspace folder with an image encoder")->required();
  cmd->add_option("--photos", photos_file, "Text file of pool photo references, one per line")
      ->required();
  cmd->add_option("--noise", options.noise, "Noise added to each pool vector (relative norm)")
      ->capture_default_str();
  cmd->add_option("--seed", options.seed, "Seed of the noise")->capture_default_str();
  cmd->callback([] {
    auto workspace = Workspace::open(ws);
    const auto report = fill_synthetic_image_vectors(workspace, read_lines(photos_file), options);
    fmt::print(
        "{} pool photos embedded; {} listings given a synthetic image vector, {} kept theirs\n",
        report.pool, report.written, report.kept);
  });
}

}  // namespace doppel
