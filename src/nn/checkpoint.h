// Training checkpoints, shared by every doppel trainer (BERT MLM, ViT-MAE, contrastive). A
// checkpoint folder (e.g. ws/models/text/checkpoints/mlm) holds one safetensors file per module
// part, the optimizer's state (nn/optimizer.h) and state.json {"step": n}, written last, so that
// `--resume` continues the same batch sequence from step n.
//
// Internal to torch-using .cc files.
#pragma once

#include <torch/nn/module.h>

#include <filesystem>
#include <string>
#include <vector>

#include "nn/optimizer.h"

namespace doppel::nn {

// A module saved as `file` (e.g. "model.safetensors") in the checkpoint folder.
struct CheckpointPart {
  std::string file;
  torch::nn::Module* module;
};

// Writes the parts, the optimizer and state.json into `dir` (created), each file atomically.
void save_checkpoint(const std::filesystem::path& dir, const std::vector<CheckpointPart>& parts,
                     const Optimizer& optimizer);

// Loads the parts and the optimizer back. Error naming `dir` when it holds no checkpoint, or the
// file at fault when one is damaged or does not fit its module.
void load_checkpoint(const std::filesystem::path& dir, const std::vector<CheckpointPart>& parts,
                     Optimizer& optimizer);

}  // namespace doppel::nn
