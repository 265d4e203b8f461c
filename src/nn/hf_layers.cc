#include "nn/hf_layers.h"

namespace doppel::nn {

torch::Tensor activation(const torch::Tensor& x, std::string_view name) {
  if (name == "relu") return torch::relu(x);
  if (name == "gelu") return torch::gelu(x);
  return torch::gelu(x, "tanh");
}

std::shared_ptr<torch::nn::Module> add_name_level(torch::nn::Module& parent,
                                                  const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

}  // namespace doppel::nn
