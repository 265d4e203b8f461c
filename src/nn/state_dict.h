// State dicts — torch modules saved to and loaded from safetensors checkpoints under the dotted
// parameter names Hugging Face uses ("encoder.layer.0.attention.self.query.weight"), so a doppel
// model reads a checkpoint trained in Python transformers and the other way round.
//
// This header includes torch (target doppel_nn): include it only from code that already uses
// torch. Code that just inspects a checkpoint includes nn/safetensors.h (doppel_nn_format).
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace doppel::nn {

// Named tensors in a fixed order: file order (by offset) when loaded, module order when taken
// from a module.
using StateDict = std::vector<std::pair<std::string, torch::Tensor>>;

// Loads every tensor of a safetensors file as a CPU tensor that owns its memory (copied out of the
// mapping), keeping the dtype: F64/F32/F16/BF16/I64/I32/I16/I8/U8/BOOL map to the torch dtypes of
// the same name. Throws doppel::Error naming the file on anything SafetensorsFile rejects.
StateDict load_state_dict(const std::filesystem::path& safetensors_path);

// Saves contiguous CPU copies of the tensors (atomically, see write_safetensors). Hugging Face
// writes {"format": "pt"}; transformers refuses files without it, hence the default.
// Throws doppel::Error for a dtype safetensors cannot hold (complex, quantized, ...).
void save_state_dict(const std::filesystem::path& path, const StateDict& tensors,
                     std::map<std::string, std::string> metadata = {{"format", "pt"}});

// The parameters then the buffers of a module (recursively) under their dotted names, with
// `prefix` in front. The tensors share storage with the module: copying into them sets its weights.
StateDict module_state(const torch::nn::Module& module, std::string_view prefix = "");

struct LoadOptions {
  // Tried in order on each checkpoint name the module does not have as is: the first prefix whose
  // removal gives a module name wins, e.g. {"bert."} to load BertForMaskedLM weights into a
  // BertModel.
  std::vector<std::string> strip_prefixes = {};
  // Regexes (std::regex_search, ECMAScript) of checkpoint names that may be left unused,
  // e.g. "^cls\\." for the MLM head.
  std::vector<std::string> ignore_unexpected = {};
  // Regexes of module names that may keep their initial values, e.g. "position_ids".
  std::vector<std::string> allow_missing = {};
};

// Copies checkpoint tensors into the module's parameters and buffers by name (under
// torch::NoGradGuard), converting each to the dtype and device of its destination.
// Everything is checked before anything is copied, so on error the module is unchanged.
// Throws doppel::Error naming `source_name` (the file) and the tensors on: a shape mismatch
// ("encoder.layer.0.output.dense.weight: checkpoint shape [768,768], model expects [128,128]"),
// two checkpoint tensors for one module name, module tensors the checkpoint lacks (up to 10
// listed), or checkpoint tensors the module lacks that ignore_unexpected does not cover (up to 10).
void load_into(torch::nn::Module& module, const StateDict& checkpoint, const LoadOptions& options,
               std::string_view source_name);

}  // namespace doppel::nn
