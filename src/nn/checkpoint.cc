#include "nn/checkpoint.h"

#include <nlohmann/json.hpp>

#include "nn/state_dict.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel::nn {

namespace fs = std::filesystem;

void save_checkpoint(const fs::path& dir, const std::vector<CheckpointPart>& parts,
                     const Optimizer& optimizer) {
  fs::create_directories(dir);
  for (const CheckpointPart& part : parts)
    save_state_dict(dir / part.file, module_state(*part.module));
  optimizer.save(dir / "optimizer.pt");
  write_file_atomic(dir / "state.json",
                    nlohmann::json{{"step", optimizer.steps_done()}}.dump() + "\n");
}

void load_checkpoint(const fs::path& dir, const std::vector<CheckpointPart>& parts,
                     Optimizer& optimizer) {
  if (!fs::exists(dir / "state.json")) fail("{}: no checkpoint to resume from", dir.string());
  for (const CheckpointPart& part : parts) {
    load_into(*part.module, load_state_dict(dir / part.file), {}, (dir / part.file).string());
  }
  optimizer.load(dir / "optimizer.pt");
}

}  // namespace doppel::nn
