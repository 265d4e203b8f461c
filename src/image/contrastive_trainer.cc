#include "image/contrastive_trainer.h"

#include <opencv2/core.hpp>

#include <nlohmann/json.hpp>

#include "image/image_model.h"
#include "image/training_images.h"
#include "image/training_loop.h"
#include "nn/checkpoint.h"
#include "nn/optimizer.h"
#include "nn/state_dict.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {

namespace fs = std::filesystem;

void ContrastiveOptions::validate() const {
  if (epochs <= 0) fail("contrastive: epochs must be positive, got {}", epochs);
  if (batch_size < 2) fail("contrastive: batch_size must be at least 2, got {}", batch_size);
  if (max_steps < 0) fail("contrastive: max_steps must be >= 0, got {}", max_steps);
  if (!(temperature > 0)) fail("contrastive: temperature must be positive, got {}", temperature);
  if (checkpoint_every <= 0) {
    fail("contrastive: checkpoint_every must be positive, got {}", checkpoint_every);
  }
  if (log_every <= 0) fail("contrastive: log_every must be positive, got {}", log_every);
  augment.validate();
  optimizer.validate();
}

namespace {

fs::path checkpoint_dir(const fs::path& dir) { return dir / "checkpoints" / "contrastive"; }

// SupCon over 2n embeddings z [2n, d] (L2-normalised; rows i and n + i are the twins of image i)
// with group ids [n] (-1 = only the twin is a positive): for every anchor, the mean over its
// positives of -log softmax over all other rows.
torch::Tensor supervised_contrastive_loss(const torch::Tensor& z, const torch::Tensor& groups,
                                          double temperature) {
  const int64_t rows = z.size(0), n = rows / 2;
  auto image = torch::arange(n).repeat({2});
  auto group = groups.repeat({2});
  auto same_image = image.unsqueeze(0) == image.unsqueeze(1);
  auto same_group = (group.unsqueeze(0) == group.unsqueeze(1)) & (group.unsqueeze(0) >= 0);
  auto self = torch::eye(rows, torch::kBool);
  auto positive = (same_image | same_group) & self.logical_not();
  auto logits = torch::matmul(z, z.t()).div(temperature).masked_fill(self, -1e9);
  auto log_prob = torch::log_softmax(logits, 1);
  auto positives = positive.to(torch::kFloat32);
  return (-(log_prob * positives).sum(1) / positives.sum(1)).mean();
}

}  // namespace

ContrastiveReport train_contrastive(const fs::path& dir, std::span<const std::string> refs,
                                    std::span<const int> labels, const ImageFetcherOptions& fetcher,
                                    const ContrastiveOptions& options, bool resume) {
  options.validate();
  if (!labels.empty() && labels.size() != refs.size()) {
    fail("contrastive: {} labels for {} images", labels.size(), refs.size());
  }
  ImageModel model = ImageModel::load(dir);
  TrainingImages images(refs, fetcher, model.encoder_config().source_size(),
                        options.cache_megabytes << 20);
  ContrastiveReport report;
  report.images = images.usable();
  if (report.images < 2)
    fail("contrastive: {} usable images, at least 2 are needed", report.images);

  // A last batch of a single image has no negative: it is dropped.
  const auto n = static_cast<int64_t>(report.images), batch = int64_t(options.batch_size);
  const int64_t steps_per_epoch = n / batch + (n % batch >= 2 ? 1 : 0);
  int64_t total_steps = steps_per_epoch * options.epochs;
  if (options.max_steps > 0) total_steps = std::min(total_steps, options.max_steps);
  nn::Optimizer optimizer({{model.mae()->vit.get()}, {model.head().get()}}, options.optimizer,
                          total_steps);
  const std::vector<nn::CheckpointPart> checkpoint = {{"model.safetensors", model.mae().get()},
                                                      {"head.safetensors", model.head().get()}};
  if (resume) {
    nn::load_checkpoint(checkpoint_dir(dir), checkpoint, optimizer);
    report.resumed_from_step = optimizer.steps_done();
  }

  model.train(true);
  const TrainingLoopOptions loop{"contrastive",      steps_per_epoch,   total_steps,
                                 options.batch_size, options.log_every, options.checkpoint_every,
                                 options.seed};
  auto step = [&](std::span<const size_t> positions, uint64_t seed) {
    std::vector<cv::Mat> views[2];
    std::vector<int64_t> groups;
    for (size_t k = 0; k < positions.size(); ++k) {
      const cv::Mat image = images.get(positions[k]);
      for (int twin = 0; twin < 2; ++twin) {
        views[twin].push_back(augment_image(image, options.augment, (seed * 7919 + k) * 2 + twin));
      }
      groups.push_back(labels.empty() ? -1 : labels[images.source(positions[k])]);
    }
    auto pixels = torch::cat({model.inputs(views[0], seed), model.inputs(views[1], ~seed)}, 0);
    auto loss = supervised_contrastive_loss(model.embed(pixels), torch::tensor(groups),
                                            options.temperature);
    loss.backward();
    optimizer.step();
    return loss.item<double>();
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
  model.save_head(dir);
  nlohmann::json curve = nlohmann::json::array();
  for (const auto& [s, l] : report.loss_curve) curve.push_back({{"step", s}, {"loss", l}});
  const nlohmann::json log = {{"images", report.images},
                              {"labelled", !labels.empty()},
                              {"steps", report.steps},
                              {"resumed_from_step", report.resumed_from_step},
                              {"batch_size", options.batch_size},
                              {"temperature", options.temperature},
                              {"lr", options.optimizer.lr},
                              {"seconds", report.seconds},
                              {"images_per_second", report.images_per_second},
                              {"loss_curve", curve}};
  write_file_atomic(dir / "contrastive_log.json", log.dump(2) + "\n");
  return report;
}

}  // namespace doppel
