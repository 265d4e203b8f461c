// The text and image side of the neural plugin (util/neural_plugin.h): everything the pipeline,
// the server and the CLI call that needs libtorch. The pipeline's own functions (text_jobs.h,
// text_model_jobs.h, image_jobs.h) go through this table and are what other code calls; the
// image benchmarks of `doppel bench images` use it directly.
#pragma once

#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "catalog/encoder.h"
#include "image/image_nn_eval.h"
#include "image/neural_image_encoder.h"
#include "pipeline/image_jobs.h"
#include "pipeline/text_model_jobs.h"
#include "text/neural_text_encoder.h"

namespace doppel {

struct NeuralPlugin {
  // NeuralTextEncoder::load and ::with_random_weights (text/neural_text_encoder.h).
  std::unique_ptr<Encoder> (*load_text_encoder)(const std::filesystem::path& dir,
                                                const NeuralTextEncoder::Options& options);
  std::unique_ptr<Encoder> (*random_text_encoder)(const std::filesystem::path& vocab_dir,
                                                  const BertConfig& bert,
                                                  const TokenCnnHeadConfig& head,
                                                  const NeuralTextEncoder::Options& options);
  decltype(&doppel::pretrain_text_model) pretrain_text_model;
  decltype(&doppel::finetune_text_model) finetune_text_model;
  // NeuralImageEncoder::load (image/neural_image_encoder.h).
  std::unique_ptr<ImageEncoder> (*load_image_encoder)(const std::filesystem::path& dir,
                                                      const NeuralImageEncoder::Options& options);
  decltype(&doppel::pretrain_image_model) pretrain_image_model;
  decltype(&doppel::finetune_image_model) finetune_image_model;
  // image/image_nn_eval.h: the grocery protocols, and the speed table of bench_image_inputs.
  decltype(&doppel::evaluate_image_models) evaluate_image_models;
  std::string (*image_speed_table)(std::span<const std::filesystem::path> files,
                                   const ImageSpeedOptions& options);
};

// The plugin's table; the plugin is loaded on the first call.
const NeuralPlugin& neural_plugin();

}  // namespace doppel
