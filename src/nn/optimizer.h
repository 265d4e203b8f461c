// Optimizer — AdamW with the schedule and clipping every doppel trainer uses (BERT MLM, match
// fine-tuning, ViT-MAE): linear warm-up to the peak learning rate, linear decay to zero at the last
// step, gradient-norm clipping, and no weight decay on biases and normalisation weights (the
// BERT/MAE recipes). Its state saves next to a checkpoint so training resumes where it stopped.
//
// Internal to torch-using .cc files.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "nn/optimizer_options.h"

namespace doppel::nn {

// Parameters trained at `lr_scale` × the scheduled rate (e.g. a pretrained body slower than a
// fresh head).
struct ParameterGroup {
  const torch::nn::Module* module;
  double lr_scale = 1.0;
};

class Optimizer {
 public:
  Optimizer(const std::vector<ParameterGroup>& groups, const OptimizerOptions& options,
            int64_t total_steps);

  // Clips, applies one AdamW update at the scheduled rate, advances the schedule, clears the
  // gradients. Returns the gradient norm before clipping.
  double step();
  double learning_rate() const;  // the rate the next step() uses, unscaled
  int64_t steps_done() const { return step_; }

  // Optimizer moments and the step count (torch archive, written atomically).
  void save(const std::filesystem::path& file) const;
  void load(const std::filesystem::path& file);  // Error naming the file

 private:
  OptimizerOptions options_;
  int64_t total_steps_;
  int64_t step_ = 0;
  std::vector<double> group_scales_;
  std::vector<torch::Tensor> parameters_;
  std::unique_ptr<torch::optim::AdamW> adam_;
};

}  // namespace doppel::nn
