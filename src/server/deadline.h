// Deadline — the latency budget of one request. The clock starts when the request started
// waiting (for a worker thread, see request_clock.h), so time spent queued or waiting for a lock
// counts; work checks the budget before each stage it starts and gives up with
// DeadlineExceeded, naming the stage, once it is spent. A stage already running is not
// interrupted: a request overruns its budget by at most the stage in progress.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "util/error.h"

namespace doppel {

class DeadlineExceeded : public Error {
 public:
  DeadlineExceeded(double budget_ms, double elapsed_ms, std::string stage);
  double budget_ms() const { return budget_ms_; }
  double elapsed_ms() const { return elapsed_ms_; }
  const std::string& stage() const { return stage_; }  // the stage it would have started

 private:
  double budget_ms_, elapsed_ms_;
  std::string stage_;
};

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  Deadline(Clock::time_point start, std::chrono::milliseconds budget)
      : start_(start), budget_(budget) {}

  double elapsed_ms() const {
    return std::chrono::duration<double, std::milli>(Clock::now() - start_).count();
  }
  double budget_ms() const { return std::chrono::duration<double, std::milli>(budget_).count(); }
  // Throws DeadlineExceeded when the budget is spent, before `stage` starts.
  void check(std::string_view stage) const {
    if (Clock::now() - start_ >= budget_)
      throw DeadlineExceeded(budget_ms(), elapsed_ms(), std::string(stage));
  }

 private:
  Clock::time_point start_;
  std::chrono::milliseconds budget_;
};

}  // namespace doppel
