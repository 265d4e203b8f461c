// y = x W^T + b, as torch::nn::functional::linear, but computed by oneDNN whenever autograd is
// off (inference, evaluation passes). Debian's libtorch calls OpenBLAS for sgemm, which reaches
// ~30 GFLOP/s on one core of the project's VM for the small matrices of doppel's text encoder,
// where oneDNN reaches ~120 (nn_linear_bench, linear_bench.cc; docs/results.md, "BERT text
// encoder", Speed). With autograd on it is exactly functional::linear, so training is unchanged.
#pragma once

#include <torch/torch.h>

namespace doppel::nn {

// x [..., in]; weight [out, in]; bias [out] or undefined. Returns [..., out].
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight,
                     const torch::Tensor& bias = {});

}  // namespace doppel::nn
