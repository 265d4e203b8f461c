// y = x W^T + b, as torch::nn::functional::linear, but computed by oneDNN whenever autograd is
// off (inference, evaluation passes). Debian's libtorch calls OpenBLAS for sgemm, which reached
// ~28 GFLOP/s on one core of the project's VM for the small matrices of doppel's encoders (a
// [2560,128] x [128,512] product), where oneDNN reached ~110 (docs/results.md, "BERT text
// encoder", Speed). With autograd on it is exactly functional::linear, so training is unchanged.
#pragma once

#include <torch/torch.h>

namespace doppel::nn {

// x [..., in]; weight [out, in]; bias [out] or undefined. Returns [..., out].
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight,
                     const torch::Tensor& bias = {});

}  // namespace doppel::nn
