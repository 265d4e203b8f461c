#include "neural/image_training.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "util/error.h"

namespace doppel::neural {

MaeReport pretrain_image_model(Workspace& ws, const MaeOptions& options,
                               const ViTMAEConfig& new_model, const ImageEncoderConfig& encoder,
                               std::span<const std::string> extra, bool resume) {
  const auto refs = training_image_refs(ws, extra);
  if (refs.empty())
    fail("{}: no images to train on: no listing has an image; add some with --images",
         ws.root().string());
  spdlog::info("train image: MAE pretraining on {} images", refs.size());
  ViTMAEConfig model = new_model;
  model.image_size = encoder.input_size();
  return pretrain_mae(ws.image_model_dir(), refs, workspace_fetcher(ws), options, model, encoder,
                      resume);
}

ContrastiveReport finetune_image_model(Workspace& ws, const ContrastiveOptions& options,
                                       std::span<const std::string> extra, bool resume) {
  if (!NeuralImageEncoder::exists(ws.image_model_dir()))
    fail("{}: no pretrained image encoder; run `doppel train image {} --stage mae` first",
         ws.image_model_dir().string(), ws.root().string());
  const auto refs = training_image_refs(ws, extra);
  const auto labels = image_product_labels(ws, refs);
  const auto labelled = std::count_if(labels.begin(), labels.end(), [](int l) { return l >= 0; });
  spdlog::info("train image: contrastive stage on {} images, {} of them with a product label",
               refs.size(), labelled);
  return train_contrastive(ws.image_model_dir(), refs, labelled > 0 ? labels : std::vector<int>{},
                           workspace_fetcher(ws), options, resume);
}

}  // namespace doppel::neural
