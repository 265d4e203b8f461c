#include "server/worker_pool.h"

namespace doppel {
namespace {

using Clock = std::chrono::steady_clock;

// How long the connection this thread serves waited for it; charged to its first request.
thread_local Clock::duration connection_wait{};
// When the request this thread handles started waiting.
thread_local Clock::time_point request_since{};

}  // namespace

void WorkerPool::enqueue(std::function<void()> connection) {
  pool_.enqueue([connection = std::move(connection), queued = Clock::now()] {
    connection_wait = Clock::now() - queued;
    connection();
  });
}

Clock::time_point start_request() {
  request_since = Clock::now() - connection_wait;
  connection_wait = {};
  return request_since;
}

Clock::time_point request_waiting_since() { return request_since; }

}  // namespace doppel
