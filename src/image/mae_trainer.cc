#include "image/mae_trainer.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <numeric>
#include <random>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "image/image_model.h"
#include "image/training_images.h"
#include "image/training_loop.h"
#include "nn/checkpoint.h"
#include "nn/optimizer.h"
#include "nn/state_dict.h"
#include "reduce/pca.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace doppel {

namespace fs = std::filesystem;

void MaeOptions::validate() const {
  if (epochs <= 0) fail("mae: epochs must be positive, got {}", epochs);
  if (batch_size <= 0) fail("mae: batch_size must be positive, got {}", batch_size);
  if (max_steps < 0) fail("mae: max_steps must be >= 0, got {}", max_steps);
  if (checkpoint_every <= 0)
    fail("mae: checkpoint_every must be positive, got {}", checkpoint_every);
  if (log_every <= 0) fail("mae: log_every must be positive, got {}", log_every);
  augment.validate();
  optimizer.validate();
}

namespace {

fs::path checkpoint_dir(const fs::path& dir) { return dir / "checkpoints" / "mae"; }

void write_log(const fs::path& dir, const MaeOptions& options, const MaeReport& report,
               const ImageModel& model) {
  nlohmann::json curve = nlohmann::json::array();
  for (const auto& [step, loss] : report.loss_curve)
    curve.push_back({{"step", step}, {"loss", loss}});
  nlohmann::json log = {{"images", report.images},
                        {"skipped_images", report.skipped_images},
                        {"input", image_input_name(model.encoder_config().input)},
                        {"steps", report.steps},
                        {"resumed_from_step", report.resumed_from_step},
                        {"epochs", options.epochs},
                        {"batch_size", options.batch_size},
                        {"lr", options.optimizer.lr},
                        {"mask_ratio", model.mae_config().mask_ratio},
                        {"norm_pix_loss", model.mae_config().norm_pix_loss},
                        {"seconds", report.seconds},
                        {"images_per_second", report.images_per_second},
                        {"loss_curve", curve}};
  write_file_atomic(dir / "mae_log.json", log.dump(2) + "\n");
}

ImageModel open_model(const fs::path& dir, const std::optional<ViTMAEConfig>& new_model,
                      const ImageEncoderConfig& new_encoder) {
  if (ImageModelFiles::has_head(dir)) return ImageModel::load(dir);
  if (ImageModelFiles::has_mae(dir)) return ImageModel::load_mae(dir, new_encoder);
  if (!new_model) fail("{}: no image model to pretrain", dir.string());
  return ImageModel(*new_model, new_encoder);
}

}  // namespace

MaeReport pretrain_mae(const fs::path& dir, std::span<const std::string> refs,
                       const ImageFetcherOptions& fetcher, const MaeOptions& options,
                       const std::optional<ViTMAEConfig>& new_model,
                       const ImageEncoderConfig& new_encoder, bool resume) {
  options.validate();
  torch::manual_seed(options.seed);  // a fresh model's weights: the same run gives the same model
  ImageModel model = open_model(dir, new_model, new_encoder);
  if (!model.pretrainable()) {
    fail(
        "{}: image_size {} is not the {} input's {} px; such a checkpoint can embed but not be "
        "pretrained on this input",
        dir.string(), model.mae_config().image_size, image_input_name(model.encoder_config().input),
        model.encoder_config().input_size());
  }
  TrainingImages images(refs, fetcher, model.encoder_config().source_size(),
                        options.cache_megabytes << 20);
  MaeReport report;
  report.images = images.usable();
  report.skipped_images = images.skipped();
  if (report.images == 0) fail("mae: none of the {} images could be loaded", refs.size());

  const int64_t steps_per_epoch =
      (static_cast<int64_t>(report.images) + options.batch_size - 1) / options.batch_size;
  int64_t total_steps = steps_per_epoch * options.epochs;
  if (options.max_steps > 0) total_steps = std::min(total_steps, options.max_steps);
  nn::Optimizer optimizer({{model.mae().get()}}, options.optimizer, total_steps);
  const std::vector<nn::CheckpointPart> checkpoint = {{"model.safetensors", model.mae().get()}};
  if (resume) {
    nn::load_checkpoint(checkpoint_dir(dir), checkpoint, optimizer);
    report.resumed_from_step = optimizer.steps_done();
  }

  model.train(true);
  const TrainingLoopOptions loop{"mae",
                                 steps_per_epoch,
                                 total_steps,
                                 options.batch_size,
                                 options.log_every,
                                 options.checkpoint_every,
                                 options.seed};
  auto step = [&](std::span<const size_t> positions, uint64_t seed) {
    std::vector<cv::Mat> batch;
    for (size_t k = 0; k < positions.size(); ++k) {
      batch.push_back(augment_image(images.get(positions[k]), options.augment, seed * 7919 + k));
    }
    torch::manual_seed(seed);  // the masking noise
    auto output = model.mae()->forward(model.inputs(batch, seed));
    output.loss.backward();
    optimizer.step();
    return output.loss.item<double>();
  };
  auto result = run_training_loop(images, optimizer, loop, step, [&] {
    nn::save_checkpoint(checkpoint_dir(dir), checkpoint, optimizer);
  });
  report.seconds = result.seconds;
  report.images_per_second = result.images_per_second;
  report.loss_curve = std::move(result.loss_curve);
  report.steps = optimizer.steps_done();
  nn::save_checkpoint(checkpoint_dir(dir), checkpoint, optimizer);
  model.save_mae(dir);
  write_log(dir, options, report, model);
  if (options.fit_head) fit_pca_head(dir, refs, fetcher, model.encoder_config());
  return report;
}

void fit_pca_head(const fs::path& dir, std::span<const std::string> refs,
                  const ImageFetcherOptions& fetcher, const ImageEncoderConfig& encoder_config,
                  size_t max_images) {
  ImageModel model = ImageModel::load_mae(dir, encoder_config);
  model.train(false);
  const int hidden = model.mae_config().hidden_size, out_dim = encoder_config.out_dim;
  if (out_dim > hidden) {
    fail("image head: out_dim {} exceeds the encoder's hidden_size {}", out_dim, hidden);
  }
  TrainingImages images(refs.subspan(0, std::min(refs.size(), max_images)), fetcher,
                        encoder_config.source_size(), /*cache_bytes=*/0);
  if (images.usable() < static_cast<size_t>(out_dim)) {
    fail("image head: {} usable images, a PCA to {} dimensions needs at least {}", images.usable(),
         out_dim, out_dim);
  }
  std::vector<torch::Tensor> pooled;
  {
    torch::InferenceMode inference;
    constexpr size_t kBatch = 32;
    const auto order = images.epoch_order(std::nullopt);
    Progress progress("image head", order.size());
    for (size_t start = 0; start < order.size(); start += kBatch) {
      std::vector<cv::Mat> batch;
      for (size_t k = start; k < std::min(order.size(), start + kBatch); ++k) {
        batch.push_back(images.get(order[k]));
      }
      pooled.push_back(model.pooled(model.inputs(batch, std::nullopt)).clone());
      progress.advance(batch.size());
    }
    progress.finish();
  }
  auto x = torch::cat(pooled, 0).contiguous();
  const Pca pca = Pca::fit(x.data_ptr<float>(), static_cast<size_t>(x.size(0)), hidden, out_dim);
  // The PCA as a linear layer: apply(0) is the bias (-mean projected), apply(e_i) - bias is the
  // i-th column of the weight.
  auto basis = torch::cat({torch::zeros({1, hidden}), torch::eye(hidden)}, 0).contiguous();
  auto projected = torch::empty({hidden + 1, out_dim});
  pca.apply(basis.data_ptr<float>(), static_cast<size_t>(hidden + 1), projected.data_ptr<float>());
  auto bias = projected[0];
  {
    torch::NoGradGuard no_grad;
    model.head()->weight.copy_((projected.slice(0, 1) - bias).t());
    model.head()->bias.copy_(bias);
  }
  model.save_head(dir);
}

}  // namespace doppel
