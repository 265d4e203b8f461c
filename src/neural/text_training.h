// The neural plugin's text stages: pipeline/text_model_jobs.h's pretrain_text_model and
// finetune_text_model, which reach these through pipeline/neural_plugin.h.
#pragma once

#include "pipeline/text_model_jobs.h"

namespace doppel::neural {

MlmReport pretrain_text_model(Workspace& ws, const MlmOptions& options,
                              const std::optional<BertConfig>& new_model,
                              const std::vector<std::filesystem::path>& corpus, bool resume);
MatchReport finetune_text_model(Workspace& ws, const MatchOptions& options, int folds);

}  // namespace doppel::neural
