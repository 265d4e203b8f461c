#include "nn/optimizer_options.h"

#include "util/error.h"

namespace doppel::nn {

void OptimizerOptions::validate() const {
  if (!(lr > 0)) fail("optimizer: lr must be positive, got {}", lr);
  if (weight_decay < 0) fail("optimizer: weight_decay must be >= 0, got {}", weight_decay);
  if (warmup_fraction < 0 || warmup_fraction >= 1) {
    fail("optimizer: warmup_fraction must be in [0, 1), got {}", warmup_fraction);
  }
  if (clip_norm < 0) fail("optimizer: clip_norm must be >= 0, got {}", clip_norm);
}

}  // namespace doppel::nn
