#include "util/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace doppel {
namespace {

Progress::Mode g_mode = Progress::Mode::kAuto;

std::string format_duration(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "?";
  auto s = static_cast<long>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s / 60) % 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

}  // namespace

void Progress::set_mode(Mode mode) { g_mode = mode; }

Progress::Progress(std::string label, uint64_t total)
    : label_(std::move(label)),
      total_(total),
      mode_(g_mode != Mode::kAuto ? g_mode
                                  : (isatty(STDERR_FILENO) == 1 ? Mode::kBar : Mode::kLines)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() { finish(); }

void Progress::advance(uint64_t n) {
  done_ += n;
  auto now = std::chrono::steady_clock::now();
  if (mode_ == Mode::kSilent) return;
  auto min_gap = mode_ == Mode::kBar ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5000);
  if (now - last_draw_ >= min_gap) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::resume_from(uint64_t done) {
  done_ = done;
  resumed_ = done;
}

void Progress::set_note(std::string note) { note_ = std::move(note); }

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  draw(true);
}

void Progress::draw(bool final_line) {
  if (mode_ == Mode::kSilent) return;
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = elapsed > 0 ? (done_ - resumed_) / elapsed : 0.0;
  std::string counts = total_ ? fmt::format("{}/{}", done_, total_) : fmt::format("{}", done_);
  std::string timing =
      final_line ? fmt::format("in {}", format_duration(elapsed))
                 : (total_ && rate > 0 ? fmt::format("ETA {}", format_duration((total_ - done_) / rate))
                                       : std::string("ETA ?"));
  std::string note = note_.empty() ? "" : "  " + note_;
  if (mode_ == Mode::kBar) {
    std::string bar;
    if (total_) {
      constexpr int kWidth = 28;
      int filled = static_cast<int>(kWidth * std::min<double>(1.0, double(done_) / total_));
      bar = "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "] ";
    }
    std::fprintf(stderr, "\r\033[K%s %s%s  %.0f/s  %s%s", label_.c_str(), bar.c_str(),
                 counts.c_str(), rate, timing.c_str(), note.c_str());
    if (final_line) std::fputc('\n', stderr);
  } else {
    std::fprintf(stderr, "%s: %s  %.0f/s  %s%s\n", label_.c_str(), counts.c_str(), rate,
                 timing.c_str(), note.c_str());
  }
  std::fflush(stderr);
}

}  // namespace doppel
