// doppel train image and doppel bench images: the ViT-MAE image encoder, trained on a
// workspace's photos and measured on the grocery photos beside the classical baselines.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>

#include "image/grocery.h"
#include "image/image_nn_eval.h"
#include "pipeline/image_jobs.h"
#include "pipeline/neural_plugin.h"
#include "pipeline/workspace.h"
#include "tools/doppel/commands.h"
#include "util/error.h"
#include "util/neural_plugin.h"

namespace doppel {
namespace {

template <typename Report>
void print_training(const char* stage, const Report& report) {
  const auto& curve = report.loss_curve;
  fmt::print("{}: {} images, {} steps in {:.0f} s ({:.1f} images/s), loss {:.4f} -> {:.4f}\n",
             stage, report.images, report.steps, report.seconds, report.images_per_second,
             curve.empty() ? 0.0 : curve.front().second, curve.empty() ? 0.0 : curve.back().second);
}

}  // namespace

void add_train_image(CLI::App& train) {
  auto* cmd = train.add_subcommand(
      "image", "Train the image encoder: ViT-MAE pretraining (mae), then optionally contrastive "
               "fine-tuning on matching listings' photos (contrastive)");
  static std::string ws, stage = "mae", input = "structured", pooling = "cls";
  static std::vector<std::string> extra;
  static MaeOptions mae;
  static ContrastiveOptions contrastive;
  static ViTMAEConfig model = ViTMAEConfig::cpu_default();
  static int epochs = 0, batch = 0, cell_size = 0, dim = 128;
  static int64_t max_steps = 0;
  static double lr = 0;
  static bool resume = false;
  cmd->add_option("workspace", ws, "Workspace folder")->required();
  cmd->add_option("--stage", stage, "mae: masked-autoencoder pretraining and the PCA head; "
                                    "contrastive: fine-tuning so that matching photos agree")
      ->check(CLI::IsMember({"mae", "contrastive"}))
      ->capture_default_str();
  cmd->add_option("--images", extra,
                  "Extra unlabelled photos: image files, folders, or .txt lists of paths/URLs");
  cmd->add_option("--epochs", epochs, "Passes over the images (default 30 mae / 10 contrastive)");
  cmd->add_option("--max-steps", max_steps, "Stop after this many steps (0 = all epochs)");
  cmd->add_option("--batch", batch, "Images per step (default 64)");
  cmd->add_option("--lr", lr, "Peak learning rate (default 1e-3 mae / 2e-4 contrastive)");
  cmd->add_flag("--resume", resume, "Continue from the stage's last checkpoint");
  cmd->add_option("--input", input, "mae, new model: structured (the recipe), full, or random")
      ->capture_default_str();
  cmd->add_option("--dim", dim, "mae: output dimension (the PCA head; at most --hidden)")
      ->capture_default_str();
  cmd->add_option("--cell-size", cell_size, "mae, new model: pixels per grid cell (default 64)");
  cmd->add_option("--pooling", pooling, "mae: cls token or mean of patch tokens")
      ->check(CLI::IsMember({"cls", "mean"}))
      ->capture_default_str();
  cmd->add_option("--layers", model.num_hidden_layers, "mae, new model: encoder layers")
      ->capture_default_str();
  cmd->add_option("--hidden", model.hidden_size, "mae, new model: hidden size")->capture_default_str();
  cmd->add_option("--heads", model.num_attention_heads, "mae, new model: attention heads")
      ->capture_default_str();
  cmd->callback([] {
    auto workspace = Workspace::open(ws);
    if (stage == "mae") {
      if (epochs > 0) mae.epochs = epochs;
      if (batch > 0) mae.batch_size = batch;
      if (lr > 0) mae.optimizer.lr = lr;
      mae.max_steps = max_steps;
      model.intermediate_size = 4 * model.hidden_size;
      ImageEncoderConfig encoder;
      encoder.input = parse_image_input(input);
      encoder.pooling = pooling;
      encoder.out_dim = dim;
      if (cell_size > 0) encoder.patches.cell_size = cell_size;
      print_training("mae", pretrain_image_model(workspace, mae, model, encoder, extra, resume));
    } else {
      if (epochs > 0) contrastive.epochs = epochs;
      if (batch > 0) contrastive.batch_size = batch;
      if (lr > 0) contrastive.optimizer.lr = lr;
      contrastive.max_steps = max_steps;
      print_training("contrastive", finetune_image_model(workspace, contrastive, extra, resume));
    }
    fmt::print("image encoder saved in {}\n", workspace.image_model_dir().string());
  });
}

void add_bench_images(CLI::App& bench) {
  auto* cmd = bench.add_subcommand(
      "images", "Image encoders on the grocery photos (protocols A, B, C: recall@1/@5, mAP) "
                "beside the classical baselines, and images/s of the structured input vs the full "
                "image");
  static std::string ws, grocery = "../shared/data/grocerystore-packages";
  static std::vector<std::string> models;
  static bool no_baselines = false, speed = false;
  static ImageSpeedOptions speed_options;
  cmd->add_option("--workspace", ws, "Evaluate this workspace's image encoder (ws/models/image)");
  cmd->add_option("--model", models, "Evaluate these image model folders");
  cmd->add_option("--grocery", grocery, "The grocery dataset folder")->capture_default_str();
  cmd->add_flag("--no-baselines", no_baselines, "Skip the classical baselines");
  cmd->add_flag("--speed", speed, "Also time structured vs full-image input (random weights)");
  cmd->add_option("--seconds", speed_options.min_seconds, "--speed: seconds per timed setting")
      ->capture_default_str();
  cmd->callback([] {
    std::vector<std::filesystem::path> dirs(models.begin(), models.end());
    if (!ws.empty()) dirs.push_back(Workspace::open(ws).image_model_dir());
    if (dirs.empty() && no_baselines && !speed)
      fail("bench images: nothing to measure (give --workspace or --model, or drop --no-baselines)");
    if (!dirs.empty() || !no_baselines)
      fmt::print("{}", grocery_table_markdown(
                           neural_plugin().evaluate_image_models(grocery, dirs, !no_baselines)));
    if (speed) {
      std::vector<std::filesystem::path> files;
      for (const GroceryPhoto& photo : load_grocery(grocery).test) files.push_back(photo.path);
      speed_options.threads = neural_threads();
      fmt::print("\n{}", neural_plugin().image_speed_table(files, speed_options));
    }
  });
}

}  // namespace doppel
