// WorkerPool — the HTTP worker threads of `doppel serve` (an httplib task queue), which also
// measure how long each accepted connection waited for a free worker, so that a request's
// latency budget (deadline.h) is charged for that wait and not only for its own handling.
#pragma once

#include <httplib.h>

#include <chrono>
#include <functional>

namespace doppel {

class WorkerPool : public httplib::TaskQueue {
 public:
  explicit WorkerPool(size_t threads) : pool_(threads) {}

  void enqueue(std::function<void()> connection) override;
  void shutdown() override { pool_.shutdown(); }

 private:
  httplib::ThreadPool pool_;
};

// Marks the start of a request's handling on this thread (the route wrapper calls it first)
// and returns when the request started waiting: now, less the time its connection waited in the
// pool's queue for a worker (only a connection's first request waited; later ones on a
// kept-alive connection already had their worker).
std::chrono::steady_clock::time_point start_request();
// What start_request() returned for the request this thread is handling.
std::chrono::steady_clock::time_point request_waiting_since();

}  // namespace doppel
