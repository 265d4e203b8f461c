// Pieces shared by doppel's transformers in the Hugging Face layout (text/bert_model.h,
// image/vit_mae_model.h): the activations a transformers config names in "hidden_act", and the
// empty modules that give parameters transformers' nested names.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <torch/torch.h>

namespace doppel::nn {

// The activation `name` applied to x: relu, gelu (exact, erf), and otherwise the tanh
// approximation (gelu_new, gelu_pytorch_tanh). The configs refuse other names (bert_config.h,
// vit_mae_config.h, through nn/hf_config_fields.h).
torch::Tensor activation(const torch::Tensor& x, std::string_view name);

// Registers an empty module called `name` under `parent` and returns it: a namespace level
// ("attention", "output", ...) so that parameter names follow Hugging Face's nesting without one
// C++ class per level.
std::shared_ptr<torch::nn::Module> add_name_level(torch::nn::Module& parent,
                                                  const std::string& name);

}  // namespace doppel::nn
