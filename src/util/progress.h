// Progress — reports long work: a redrawn bar with rate and ETA on a terminal, and plain
// log lines (at most one every few seconds) when stderr is a file or pipe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace doppel {

class Progress {
 public:
  // total == 0 means unknown: the bar shows a count and rate only.
  Progress(std::string label, uint64_t total);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(uint64_t n = 1);
  // Counts `done` units as finished by an earlier run (a resumed training): they show in the
  // count and the bar but not in the rate, so the ETA is this run's. Call before advance().
  void resume_from(uint64_t done);
  // Extra text shown after the counts, e.g. "loss 0.42".
  void set_note(std::string note);
  // Prints the final line; called by the destructor if not called before.
  void finish();

  // How every Progress in the process reports; kAuto picks kBar when stderr is a terminal and
  // kLines otherwise. Set once at start-up (the CLI's --quiet selects kSilent).
  enum class Mode { kAuto, kLines, kBar, kSilent };
  static void set_mode(Mode mode);

 private:
  void draw(bool final_line);

  std::string label_;
  std::string note_;
  uint64_t total_;
  uint64_t done_ = 0;
  uint64_t resumed_ = 0;  // of done_, finished before this run
  Mode mode_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace doppel
