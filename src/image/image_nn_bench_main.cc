// image_nn_bench — the ViT-MAE runs behind docs/images.md, on the grocery photos directly (no
// workspace; the product labels come from the dataset's split lists). `doppel train image`
// trains the same model on a workspace's catalog; `doppel bench images` runs the same evaluation.
//   image_nn_bench pretrain DIR [--input structured|full|random] [--epochs N] [--steps N]
//                  [--batch N] [--lr X] [--pooling mean|cls] [--no-iconic] [--root ROOT]
//       MAE pretraining on the grocery train photos (+ iconic images unless --no-iconic), then
//       the PCA head; DIR is created or, when it holds a model, trained further.
//   image_nn_bench contrastive DIR [--epochs N] [--steps N] [--batch N] [--lr X] [--unlabelled]
//       the contrastive stage on the same images; with their product labels (train split and
//       iconic images only) unless --unlabelled
//   image_nn_bench head DIR [--pooling mean|cls] [--root ROOT]   refits the head only
//   image_nn_bench eval [--no-baselines] [--root ROOT] DIR...    protocols A, B, C
//   image_nn_bench reference DIR OUT.safetensors
//       runs the ViT-MAE of DIR on seeded random pixels and masking noise and stores inputs and
//       outputs for scripts/hf_vit_mae_check.py (the cross-check against transformers)
//   image_nn_bench speed [--threads N] [--batch N] [--seconds S] [--root ROOT]
//       images/s, structured (64+1 tokens) vs full image (196+1), on the grocery test photos
// ROOT defaults to ../shared/data/grocerystore-packages. --threads sets torch's threads (default 2).
#include <fmt/format.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "image/contrastive_trainer.h"
#include "image/grocery.h"
#include "image/image_model.h"
#include "image/image_nn_eval.h"
#include "image/mae_trainer.h"
#include "image/neural_image_encoder.h"
#include "nn/state_dict.h"
#include "nn/threads.h"
#include "util/error.h"

namespace {

namespace fs = std::filesystem;
using namespace doppel;

struct Args {
  std::string mode;
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;  // "--epochs" -> "30"; switches map to ""

  std::string get(const std::string& flag, const std::string& fallback) const {
    auto it = flags.find(flag);
    return it == flags.end() ? fallback : it->second;
  }
  bool has(const std::string& flag) const { return flags.count(flag) > 0; }
};

Args parse(int argc, char** argv) {
  Args args;
  args.mode = argc > 1 ? argv[1] : "";
  for (int i = 2; i < argc; ++i) {
    const std::string token = argv[i];
    if (!token.starts_with("--")) {
      args.positional.push_back(token);
    } else if (token == "--no-iconic" || token == "--no-baselines" || token == "--unlabelled") {
      args.flags[token] = "";
    } else if (i + 1 < argc) {
      args.flags[token] = argv[++i];
    } else {
      fail("{} needs a value", token);
    }
  }
  return args;
}

ImageEncoderConfig encoder_config(const Args& args) {
  ImageEncoderConfig encoder;
  encoder.input = parse_image_input(args.get("--input", "structured"));
  encoder.pooling = args.get("--pooling", "cls");
  return encoder;
}

void pretrain(const Args& args, const GroceryDataset& data) {
  if (args.positional.size() != 1) fail("pretrain needs one model folder");
  const fs::path dir = args.positional[0];
  MaeOptions options;
  options.epochs = std::stoi(args.get("--epochs", "30"));
  options.max_steps = std::stoll(args.get("--steps", "0"));
  options.batch_size = std::stoi(args.get("--batch", "64"));
  options.optimizer.lr = std::stod(args.get("--lr", "1e-3"));
  const ImageEncoderConfig encoder = encoder_config(args);
  ViTMAEConfig model = ViTMAEConfig::cpu_default();
  model.image_size = encoder.input_size();
  const auto refs = grocery_pretraining_images(data, !args.has("--no-iconic"));
  const auto report = pretrain_mae(dir, refs, {}, options, model, encoder, /*resume=*/false);
  fmt::print("{} images, {} steps in {:.0f} s ({:.1f} img/s); loss {:.4f} -> {:.4f}\n", report.images,
             report.steps, report.seconds, report.images_per_second,
             report.loss_curve.front().second, report.loss_curve.back().second);
}

void contrastive(const Args& args, const GroceryDataset& data) {
  if (args.positional.size() != 1) fail("contrastive needs one model folder");
  ContrastiveOptions options;
  options.epochs = std::stoi(args.get("--epochs", "10"));
  options.max_steps = std::stoll(args.get("--steps", "0"));
  options.batch_size = std::stoi(args.get("--batch", "64"));
  options.optimizer.lr = std::stod(args.get("--lr", "2e-4"));
  const auto refs = grocery_pretraining_images(data, /*include_iconic=*/true);
  std::vector<int> labels;
  if (!args.has("--unlabelled")) {
    for (const GroceryPhoto& photo : data.train) labels.push_back(photo.product);
    for (size_t product = 0; product < data.iconic.size(); ++product) labels.push_back(int(product));
  }
  const auto report = train_contrastive(args.positional[0], refs, labels, {}, options, false);
  fmt::print("{} images, {} steps in {:.0f} s ({:.1f} img/s); loss {:.4f} -> {:.4f}\n", report.images,
             report.steps, report.seconds, report.images_per_second,
             report.loss_curve.front().second, report.loss_curve.back().second);
}

void reference(const Args& args) {
  if (args.positional.size() != 2) fail("reference needs a model folder and an output file");
  const fs::path dir = args.positional[0];
  const ViTMAEConfig config = ViTMAEConfig::load(dir / "config.json");
  ImageEncoderConfig encoder;  // unused here; a cell size that fits the checkpoint's patch size
  encoder.patches.cell_size = config.patch_size * 4;
  ImageModel model = ImageModel::load_mae(dir, encoder);
  model.train(false);
  torch::NoGradGuard no_grad;
  torch::manual_seed(123);
  auto pixels = torch::randn({2, 3, config.image_size, config.image_size});
  auto noise = torch::rand({2, config.num_patches()});
  auto output = model.mae()->forward(pixels, noise);
  nn::save_state_dict(args.positional[1], {{"pixels", pixels},
                                           {"noise", noise},
                                           {"hidden", model.mae()->vit(pixels)},
                                           {"logits", output.logits},
                                           {"mask", output.mask},
                                           {"loss", output.loss.reshape({1})}});
  fmt::print("loss {:.6f}\n", output.loss.item<double>());
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args args = parse(argc, argv);
    const fs::path root = args.get("--root", "../shared/data/grocerystore-packages");
    nn::set_threads(std::stoi(args.get("--threads", "2")));
    if (args.mode == "pretrain") {
      pretrain(args, load_grocery(root));
    } else if (args.mode == "contrastive") {
      contrastive(args, load_grocery(root));
    } else if (args.mode == "head") {
      if (args.positional.size() != 1) fail("head needs one model folder");
      const auto data = load_grocery(root);
      fit_pca_head(args.positional[0], grocery_pretraining_images(data, !args.has("--no-iconic")), {},
                   encoder_config(args));
    } else if (args.mode == "eval") {
      std::vector<fs::path> dirs(args.positional.begin(), args.positional.end());
      const auto rows = evaluate_image_models(root, dirs, !args.has("--no-baselines"));
      fmt::print("{}", grocery_table_markdown(rows));
    } else if (args.mode == "reference") {
      reference(args);
    } else if (args.mode == "speed") {
      const auto data = load_grocery(root);
      std::vector<fs::path> files;
      for (const GroceryPhoto& photo : data.test) files.push_back(photo.path);
      ImageSpeedOptions options;
      options.threads = std::stoi(args.get("--threads", "2"));
      options.batch_size = std::stoi(args.get("--batch", "32"));
      options.min_seconds = std::stod(args.get("--seconds", "3"));
      const auto rows = bench_image_inputs(files, options);
      fmt::print("{}", image_speed_markdown(rows));
    } else {
      fmt::print(stderr, "usage: image_nn_bench pretrain DIR [...] | head DIR | eval DIR... | speed\n");
      return 2;
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "image_nn_bench: {}\n", e.what());
    return 1;
  }
  return 0;
}
