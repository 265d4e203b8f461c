#include "nn/state_dict.h"

#include <fmt/ranges.h>
#include <torch/utils.h>

#include <cstring>
#include <optional>
#include <regex>
#include <span>

#include "nn/safetensors.h"
#include "util/error.h"

namespace doppel::nn {
namespace {

torch::Dtype to_torch(DType dtype) {
  switch (dtype) {
    case DType::kF64:
      return torch::kFloat64;
    case DType::kF32:
      return torch::kFloat32;
    case DType::kF16:
      return torch::kFloat16;
    case DType::kBF16:
      return torch::kBFloat16;
    case DType::kI64:
      return torch::kInt64;
    case DType::kI32:
      return torch::kInt32;
    case DType::kI16:
      return torch::kInt16;
    case DType::kI8:
      return torch::kInt8;
    case DType::kU8:
      return torch::kUInt8;
    case DType::kBool:
      return torch::kBool;
  }
  return torch::kFloat32;
}

std::optional<DType> from_torch(torch::Dtype dtype) {
  switch (dtype) {
    case torch::kFloat64:
      return DType::kF64;
    case torch::kFloat32:
      return DType::kF32;
    case torch::kFloat16:
      return DType::kF16;
    case torch::kBFloat16:
      return DType::kBF16;
    case torch::kInt64:
      return DType::kI64;
    case torch::kInt32:
      return DType::kI32;
    case torch::kInt16:
      return DType::kI16;
    case torch::kInt8:
      return DType::kI8;
    case torch::kUInt8:
      return DType::kU8;
    case torch::kBool:
      return DType::kBool;
    default:
      return std::nullopt;
  }
}

std::string shape_string(c10::IntArrayRef shape) {
  return fmt::format("[{}]", fmt::join(shape, ","));
}

std::vector<std::regex> compile_patterns(const std::vector<std::string>& patterns,
                                         std::string_view field) {
  std::vector<std::regex> compiled;
  for (const std::string& pattern : patterns) {
    try {
      compiled.emplace_back(pattern);
    } catch (const std::regex_error& e) {
      fail("LoadOptions.{}: invalid regex \"{}\": {}", field, pattern, e.what());
    }
  }
  return compiled;
}

bool matches_any(const std::vector<std::regex>& patterns, const std::string& name) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::regex& re) { return std::regex_search(name, re); });
}

// "a, b, c" for at most 10 names, then "and N more".
std::string list_some(const std::vector<std::string>& names) {
  constexpr size_t kShown = 10;
  const std::span<const std::string> shown(names.data(), std::min(names.size(), kShown));
  std::string text = fmt::format("{}", fmt::join(shown, ", "));
  if (names.size() > kShown) text += fmt::format(" and {} more", names.size() - kShown);
  return text;
}

}  // namespace

StateDict load_state_dict(const std::filesystem::path& safetensors_path) {
  const SafetensorsFile file = SafetensorsFile::open(safetensors_path);
  StateDict state;
  state.reserve(file.tensors().size());
  for (const TensorRecord& record : file.tensors()) {
    // A fresh, aligned tensor: the mapping gives no alignment guarantee and goes away with `file`.
    torch::Tensor tensor = torch::empty(record.shape, torch::dtype(to_torch(record.dtype)));
    if (!record.bytes.empty())
      std::memcpy(tensor.data_ptr(), record.bytes.data(), record.bytes.size());
    state.emplace_back(record.name, std::move(tensor));
  }
  return state;
}

void save_state_dict(const std::filesystem::path& path, const StateDict& tensors,
                     std::map<std::string, std::string> metadata) {
  std::vector<torch::Tensor> cpu_tensors;  // keeps the bytes that `records` points at alive
  std::vector<TensorToWrite> records;
  cpu_tensors.reserve(tensors.size());
  records.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    DOPPEL_CHECK(tensor.defined(), "tensor \"{}\" is undefined", name);
    const auto dtype = from_torch(tensor.scalar_type());
    if (!dtype) {
      fail("{}: tensor \"{}\": dtype {} has no safetensors equivalent in doppel", path.string(),
           name, c10::toString(tensor.scalar_type()));
    }
    const torch::Tensor& cpu =
        cpu_tensors.emplace_back(tensor.detach().to(torch::kCPU).contiguous());
    records.push_back(TensorToWrite{
        name, *dtype, cpu.sizes().vec(),
        std::span<const std::byte>(static_cast<const std::byte*>(cpu.data_ptr()), cpu.nbytes())});
  }
  write_safetensors(path, records, metadata);
}

StateDict module_state(const torch::nn::Module& module, std::string_view prefix) {
  StateDict state;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    state.emplace_back(std::string(prefix) + item.key(), item.value());
  }
  for (const auto& item : module.named_buffers(/*recurse=*/true)) {
    state.emplace_back(std::string(prefix) + item.key(), item.value());
  }
  return state;
}

void load_into(torch::nn::Module& module, const StateDict& checkpoint, const LoadOptions& options,
               std::string_view source_name) {
  const auto ignore_unexpected = compile_patterns(options.ignore_unexpected, "ignore_unexpected");
  const auto allow_missing = compile_patterns(options.allow_missing, "allow_missing");
  const StateDict targets = module_state(module);
  std::map<std::string, size_t, std::less<>> target_index;
  for (size_t i = 0; i < targets.size(); ++i) target_index.emplace(targets[i].first, i);

  // The module tensor a checkpoint name loads into: the name as is, else the first stripped
  // prefix that gives a module name.
  const auto resolve = [&](std::string_view name) -> std::optional<size_t> {
    if (const auto it = target_index.find(name); it != target_index.end()) return it->second;
    for (const std::string& prefix : options.strip_prefixes) {
      if (!name.starts_with(prefix)) continue;
      const auto it = target_index.find(name.substr(prefix.size()));
      if (it != target_index.end()) return it->second;
    }
    return std::nullopt;
  };

  // Plan every copy first so that a bad checkpoint leaves the module untouched.
  std::vector<const StateDict::value_type*> source(targets.size(), nullptr);
  std::vector<std::string> unexpected;
  for (const auto& entry : checkpoint) {
    const auto& [name, tensor] = entry;
    const auto target = resolve(name);
    if (!target) {
      if (!matches_any(ignore_unexpected, name)) unexpected.push_back(name);
      continue;
    }
    const auto& [target_name, destination] = targets[*target];
    const std::string label =
        name == target_name ? name : fmt::format("{} (as {})", name, target_name);
    if (source[*target] != nullptr) {
      fail("{}: checkpoint tensors {} and {} both load into {}", source_name,
           source[*target]->first, name, target_name);
    }
    if (!tensor.sizes().equals(destination.sizes())) {
      fail("{}: {}: checkpoint shape {}, model expects {}", source_name, label,
           shape_string(tensor.sizes()), shape_string(destination.sizes()));
    }
    source[*target] = &entry;
  }
  std::vector<std::string> missing;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (source[i] == nullptr && !matches_any(allow_missing, targets[i].first)) {
      missing.push_back(targets[i].first);
    }
  }
  std::vector<std::string> problems;
  if (!missing.empty()) {
    problems.push_back(fmt::format("{} model tensor(s) missing from the checkpoint: {}",
                                   missing.size(), list_some(missing)));
  }
  if (!unexpected.empty()) {
    problems.push_back(fmt::format("{} checkpoint tensor(s) the model does not have: {}",
                                   unexpected.size(), list_some(unexpected)));
  }
  if (!problems.empty()) fail("{}: {}", source_name, fmt::join(problems, "; "));

  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (source[i] != nullptr) targets[i].second.copy_(source[i]->second);
  }
}

}  // namespace doppel::nn
