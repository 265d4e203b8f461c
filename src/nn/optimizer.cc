#include "nn/optimizer.h"

#include <algorithm>

#include "util/error.h"

namespace doppel::nn {

namespace fs = std::filesystem;

namespace {

// Biases and normalisation weights are not decayed: decaying them only hurts (BERT, MAE recipes).
bool decays(const std::string& name, const torch::Tensor& parameter) {
  if (parameter.dim() < 2) return false;
  return name.find("LayerNorm") == std::string::npos && name.find("norm") == std::string::npos;
}

}  // namespace

Optimizer::Optimizer(const std::vector<ParameterGroup>& groups, const OptimizerOptions& options,
                     int64_t total_steps)
    : options_(options), total_steps_(std::max<int64_t>(total_steps, 1)) {
  options.validate();
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  for (const ParameterGroup& group : groups) {
    std::vector<torch::Tensor> decayed, plain;
    for (const auto& item : group.module->named_parameters()) {
      if (!item.value().requires_grad()) continue;
      (decays(item.key(), item.value()) ? decayed : plain).push_back(item.value());
      parameters_.push_back(item.value());
    }
    for (auto* tensors : {&decayed, &plain}) {
      if (tensors->empty()) continue;
      auto adam = std::make_unique<torch::optim::AdamWOptions>(options.lr * group.lr_scale);
      adam->betas({options.beta1, options.beta2}).eps(options.eps);
      adam->weight_decay(tensors == &decayed ? options.weight_decay : 0.0);
      param_groups.emplace_back(*tensors, std::move(adam));
      group_scales_.push_back(group.lr_scale);
    }
  }
  adam_ = std::make_unique<torch::optim::AdamW>(param_groups, torch::optim::AdamWOptions(options.lr));
}

double Optimizer::learning_rate() const {
  const double warmup = std::max(1.0, options_.warmup_fraction * static_cast<double>(total_steps_));
  const double step = static_cast<double>(step_) + 1;
  if (step <= warmup) return options_.lr * step / warmup;
  const double remaining = static_cast<double>(total_steps_) - step + 1;
  return options_.lr * std::max(0.0, remaining / (static_cast<double>(total_steps_) - warmup + 1));
}

double Optimizer::step() {
  const double rate = learning_rate();
  auto& groups = adam_->param_groups();
  for (size_t i = 0; i < groups.size(); ++i) {
    static_cast<torch::optim::AdamWOptions&>(groups[i].options()).lr(rate * group_scales_[i]);
  }
  double norm = 0;
  if (options_.clip_norm > 0) {
    norm = torch::nn::utils::clip_grad_norm_(parameters_, options_.clip_norm);
  }
  adam_->step();
  adam_->zero_grad();
  ++step_;
  return norm;
}

void Optimizer::save(const fs::path& file) const {
  torch::serialize::OutputArchive archive;
  adam_->save(archive);
  archive.write("doppel_step", torch::tensor(step_));
  const fs::path temp = file.string() + ".tmp";
  archive.save_to(temp.string());
  fs::rename(temp, file);
}

void Optimizer::load(const fs::path& file) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(file.string());
    adam_->load(archive);
    torch::Tensor step;
    archive.read("doppel_step", step);
    step_ = step.item<int64_t>();
  } catch (const c10::Error& e) {
    fail("{}: cannot read the optimizer state: {}", file.string(), e.what_without_backtrace());
  }
}

}  // namespace doppel::nn
