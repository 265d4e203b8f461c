// OptimizerOptions — the knobs of doppel's AdamW schedule (nn/optimizer.h), in a header without
// torch so trainers' public option structs can embed them.
#pragma once

namespace doppel::nn {

struct OptimizerOptions {
  double lr = 5e-4;               // peak learning rate
  double weight_decay = 0.01;
  double warmup_fraction = 0.06;  // of total steps
  double clip_norm = 1.0;         // 0 = no clipping
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-6;
  void validate() const;  // Error naming the field
};

}  // namespace doppel::nn
