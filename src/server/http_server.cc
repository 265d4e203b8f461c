#include "server/http_server.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "server/worker_pool.h"
#include "util/error.h"
#include "util/progress.h"

namespace doppel {
namespace {

ImageFetcherOptions image_options(const std::filesystem::path& workspace,
                                  const ServerOptions& options) {
  ImageFetcherOptions images;
  images.cache_dir = workspace / "cache" / "images";
  images.base_dir =
      std::filesystem::absolute(options.image_root.empty() ? workspace : options.image_root);
  images.timeout_seconds = options.image_timeout_seconds;
  images.max_bytes = options.max_image_bytes;
  images.validate();
  return images;
}

}  // namespace

DoppelServer::DoppelServer(std::filesystem::path workspace, ServerOptions options)
    : workspace_(std::move(workspace)),
      context_((options.validate(), options), image_options(workspace_, options)) {
  const int threads = context_.options().threads;
  http_.new_task_queue = [threads] { return new WorkerPool(threads); };
  http_.set_payload_max_length(context_.options().max_body_bytes);
  http_.set_read_timeout(context_.options().read_timeout_seconds);
  http_.set_write_timeout(context_.options().read_timeout_seconds);
  http_.set_keep_alive_timeout(2);  // idle keep-alive connections also delay shutdown
  // Without it, Nagle's algorithm holds a reply's last segment until the client's delayed ACK:
  // 40-90 ms per request instead of a few.
  http_.set_tcp_nodelay(true);
  add_routes(http_, context_);
}

int DoppelServer::bind() {
  const auto& options = context_.options();
  if (options.port == 0) {
    const int port = http_.bind_to_any_port(options.host);
    if (port < 0) fail("cannot listen on {} (any port)", options.host);
    return port;
  }
  if (!http_.bind_to_port(options.host, options.port))
    fail("cannot listen on {}:{} (in use, or not an address of this machine?)", options.host,
         options.port);
  return options.port;
}

void DoppelServer::run() {
  std::thread loader([this] {
    try {
      auto state =
          std::make_shared<ServerState>(workspace_, image_options(workspace_, context_.options()));
      // Requests must not draw progress bars; set before the state is published, so no request
      // thread can be running a Progress yet.
      Progress::set_mode(Progress::Mode::kSilent);
      const auto stats = state->stats();
      context_.set_state(std::move(state));
      spdlog::info("ready: {} listings, {} indexed ({}), encoder {}", stats.listings, stats.indexed,
                   stats.index_spec, stats.text_encoder);
    } catch (const std::exception& e) {
      context_.set_load_error(e.what());
      spdlog::error("cannot serve {}: {}", workspace_.string(), e.what());
      // run() may be just about to listen: stop again once it does (or give up after 2 s, when
      // it saw stop_requested_ and never listened).
      stop();
      for (int i = 0; i < 200 && !http_.is_running(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      http_.stop();
    }
  });
  if (!stop_requested_) http_.listen_after_bind();
  loader.join();
  if (auto state = context_.state()) {
    state->save_index();
    spdlog::info("index saved; stopped");
  }
  const std::string error = context_.load_error();
  if (!error.empty()) throw Error(error);
}

void DoppelServer::stop() {
  stop_requested_ = true;
  http_.stop();
}

}  // namespace doppel
