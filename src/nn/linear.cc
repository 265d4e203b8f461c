#include "nn/linear.h"

namespace doppel::nn {

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight,
                     const torch::Tensor& bias) {
  if (torch::GradMode::is_enabled() || !at::hasMKLDNN() || !x.device().is_cpu() ||
      x.scalar_type() != torch::kFloat || x.numel() == 0) {
    return torch::nn::functional::linear(x, weight, bias);
  }
  auto sizes = x.sizes().vec();
  sizes.back() = weight.size(0);
  const auto rows = x.reshape({-1, x.size(-1)}).contiguous();
  return torch::mkldnn_linear(rows.to_mkldnn(), weight.contiguous().to_mkldnn(), bias)
      .to_dense()
      .view(sizes);
}

}  // namespace doppel::nn
