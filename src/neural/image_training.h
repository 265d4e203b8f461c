// The neural plugin's image stages: pipeline/image_jobs.h's pretrain_image_model and
// finetune_image_model, which reach these through pipeline/neural_plugin.h.
#pragma once

#include "pipeline/image_jobs.h"

namespace doppel::neural {

MaeReport pretrain_image_model(Workspace& ws, const MaeOptions& options,
                               const ViTMAEConfig& new_model, const ImageEncoderConfig& encoder,
                               std::span<const std::string> extra, bool resume);
ContrastiveReport finetune_image_model(Workspace& ws, const ContrastiveOptions& options,
                                       std::span<const std::string> extra, bool resume);

}  // namespace doppel::neural
