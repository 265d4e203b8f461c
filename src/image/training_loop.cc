#include "image/training_loop.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "util/progress.h"

namespace doppel {

TrainingLoopResult run_training_loop(const TrainingImages& images, const nn::Optimizer& optimizer,
                                     const TrainingLoopOptions& options, const TrainingStep& step,
                                     const std::function<void()>& checkpoint) {
  TrainingLoopResult result;
  Progress progress(options.label, static_cast<uint64_t>(options.total_steps));
  progress.resume_from(static_cast<uint64_t>(optimizer.steps_done()));
  const auto start = std::chrono::steady_clock::now();
  int64_t seen = 0;
  double loss_sum = 0;
  int loss_count = 0;
  const auto batch = static_cast<size_t>(options.batch_size);
  while (optimizer.steps_done() < options.total_steps) {
    const int64_t epoch = optimizer.steps_done() / options.steps_per_epoch;
    const auto order = images.epoch_order(options.seed + static_cast<uint64_t>(epoch));
    for (int64_t i = optimizer.steps_done() % options.steps_per_epoch;
         i < options.steps_per_epoch && optimizer.steps_done() < options.total_steps; ++i) {
      const uint64_t step_seed = options.seed * 1000003 + static_cast<uint64_t>(optimizer.steps_done());
      const size_t first = static_cast<size_t>(i) * batch;
      const auto positions = std::span(order).subspan(first, std::min(batch, order.size() - first));
      loss_sum += step(positions, step_seed);
      ++loss_count;
      seen += static_cast<int64_t>(positions.size());
      const int64_t done = optimizer.steps_done();
      result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      result.images_per_second = result.seconds > 0 ? static_cast<double>(seen) / result.seconds : 0;
      if (done % options.log_every == 0 || done == options.total_steps) {
        result.loss_curve.emplace_back(done, loss_sum / loss_count);
        progress.set_note(fmt::format("loss {:.4f} · {:.0f} img/s", loss_sum / loss_count,
                                      result.images_per_second));
        loss_sum = 0;
        loss_count = 0;
      }
      progress.advance();
      if (done % options.checkpoint_every == 0) checkpoint();
    }
  }
  progress.finish();
  return result;
}

}  // namespace doppel
