// libdoppel_neural.so's entries (util/neural_plugin.h): the tables of decide/mlp_model.h and
// pipeline/neural_plugin.h, filled with the libtorch code they stand for.
#include <memory>

#include "decide/mlp_model.h"
#include "image/image_nn_eval.h"
#include "image/neural_image_encoder.h"
#include "neural/image_training.h"
#include "neural/text_training.h"
#include "nn/threads.h"
#include "pipeline/neural_plugin.h"
#include "text/neural_text_encoder.h"
#include "util/neural_plugin.h"

namespace doppel {
namespace {

std::unique_ptr<Encoder> load_neural_text_encoder(const std::filesystem::path& dir,
                                                  const NeuralTextEncoder::Options& options) {
  return std::make_unique<NeuralTextEncoder>(NeuralTextEncoder::load(dir, options));
}

std::unique_ptr<Encoder> random_neural_text_encoder(const std::filesystem::path& vocab_dir,
                                                    const BertConfig& bert,
                                                    const TokenCnnHeadConfig& head,
                                                    const NeuralTextEncoder::Options& options) {
  return std::make_unique<NeuralTextEncoder>(
      NeuralTextEncoder::with_random_weights(vocab_dir, bert, head, options));
}

std::unique_ptr<ImageEncoder> load_neural_image_encoder(
    const std::filesystem::path& dir, const NeuralImageEncoder::Options& options) {
  return std::make_unique<NeuralImageEncoder>(NeuralImageEncoder::load(dir, options));
}

std::string image_speed_table(std::span<const std::filesystem::path> files,
                              const ImageSpeedOptions& options) {
  return image_speed_markdown(bench_image_inputs(files, options));
}

}  // namespace
}  // namespace doppel

extern "C" {

int doppel_neural_abi() { return doppel::kNeuralPluginAbi; }

void doppel_neural_set_threads(int threads) { doppel::nn::set_threads(threads); }

const doppel::MlpPlugin* doppel_mlp_plugin() {
  static const doppel::MlpPlugin table{&doppel::fit_mlp, &doppel::load_mlp};
  return &table;
}

const doppel::NeuralPlugin* doppel_neural_plugin() {
  static const doppel::NeuralPlugin table{
      &doppel::load_neural_text_encoder,
      &doppel::random_neural_text_encoder,
      &doppel::neural::pretrain_text_model,
      &doppel::neural::finetune_text_model,
      &doppel::load_neural_image_encoder,
      &doppel::neural::pretrain_image_model,
      &doppel::neural::finetune_image_model,
      &doppel::evaluate_image_models,
      &doppel::image_speed_table,
  };
  return &table;
}

}  // extern "C"
