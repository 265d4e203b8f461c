// The step loop the image trainers share (MAE, contrastive): seeded epoch shuffles of the
// training images, one optimizer step per batch from wherever the optimizer's step count says
// (so a resumed run continues the same batch sequence), the loss curve, the progress bar with
// loss and images/s, and periodic checkpoints. The trainer supplies what one step does.
//
// Internal to the torch-using trainers of the image module.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "image/training_images.h"
#include "nn/optimizer.h"

namespace doppel {

struct TrainingLoopOptions {
  std::string label;        // progress bar label, e.g. "mae"
  int64_t steps_per_epoch;  // batches per pass over the images
  int64_t total_steps;
  int batch_size;
  int log_every;
  int checkpoint_every;
  uint64_t seed;
};

struct TrainingLoopResult {
  double seconds = 0;
  double images_per_second = 0;
  std::vector<std::pair<int64_t, double>> loss_curve;  // (step, mean loss since the last point)
};

// One training step on the images at `positions` (TrainingImages positions), seeded by `seed`:
// forward, backward and optimizer.step(); returns the loss.
using TrainingStep = std::function<double(std::span<const size_t> positions, uint64_t seed)>;

// Runs steps until optimizer.steps_done() reaches total_steps, calling `checkpoint` every
// checkpoint_every steps (the trainer saves the final state itself).
TrainingLoopResult run_training_loop(const TrainingImages& images, const nn::Optimizer& optimizer,
                                     const TrainingLoopOptions& options, const TrainingStep& step,
                                     const std::function<void()>& checkpoint);

}  // namespace doppel
