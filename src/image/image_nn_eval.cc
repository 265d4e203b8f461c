#include "image/image_nn_eval.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <chrono>
#include <memory>

#include <fmt/format.h>

#include "image/image_io.h"
#include "image/image_model.h"
#include "image/neural_image_encoder.h"
#include "nn/threads.h"
#include "util/error.h"

namespace doppel {

namespace fs = std::filesystem;

ImageMethod neural_image_method(const fs::path& model_dir, std::string name, int batch_size) {
  NeuralImageEncoder::Options options;
  options.batch_size = batch_size;
  auto encoder = std::make_shared<NeuralImageEncoder>(NeuralImageEncoder::load(model_dir, options));
  ImageMethod method;
  method.name = name.empty() ? encoder->name() : std::move(name);
  method.dim = encoder->dim();
  method.embed = [encoder](std::span<const cv::Mat> images, std::span<float> out) {
    DOPPEL_CHECK(out.size() == images.size() * size_t(encoder->dim()), "{} floats for {} images",
                 out.size(), images.size());
    encoder->encode_images(images, out.data());
  };
  method.distance = [](std::span<const float> a, std::span<const float> b) {
    float dot = 0;
    for (size_t i = 0; i < a.size(); ++i) dot += a[i] * b[i];
    return 1.0f - dot;
  };
  return method;
}

std::vector<std::string> grocery_pretraining_images(const GroceryDataset& data, bool include_iconic) {
  std::vector<std::string> refs;
  for (const GroceryPhoto& photo : data.train) refs.push_back(photo.path.string());
  if (include_iconic) {
    for (const fs::path& path : data.iconic) refs.push_back(path.string());
  }
  return refs;
}

std::vector<GroceryRow> evaluate_image_models(const fs::path& grocery_root,
                                              std::span<const fs::path> model_dirs,
                                              bool with_baselines) {
  const GroceryDataset data = load_grocery(grocery_root);
  std::vector<GroceryRow> rows;
  if (with_baselines) {
    for (const ImageMethod& method : classical_image_methods()) {
      rows.push_back({method.name, evaluate_grocery(data, method)});
    }
  }
  for (const fs::path& dir : model_dirs) {
    ImageMethod method = neural_image_method(dir);
    method.name += fmt::format(" ({})", dir.filename().string());
    rows.push_back({method.name, evaluate_grocery(data, method)});
  }
  return rows;
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One input recipe with a random-weight model of the benchmark's width.
struct SpeedSubject {
  std::string input;
  ImageModel model;
  DecodeOptions decode;
};

SpeedSubject make_subject(ImageInput input, const ImageSpeedOptions& options) {
  ImageEncoderConfig encoder;
  encoder.input = input;
  ViTMAEConfig config = options.model;
  config.image_size = encoder.input_size();
  SpeedSubject subject{std::string(image_input_name(input)), ImageModel(config, encoder), {}};
  subject.model.train(false);
  subject.decode.target_size = encoder.source_size();
  return subject;
}

// Images/s of `work(first, count)` over batches of the cycled file list for at least min_seconds.
template <typename Work>
double images_per_second(size_t files, const ImageSpeedOptions& options, Work work) {
  const size_t batch = size_t(options.batch_size);
  work(0, std::min(batch, files));  // warm-up
  size_t done = 0, next = 0;
  const auto start = Clock::now();
  while (seconds_since(start) < options.min_seconds) {
    const size_t count = std::min(batch, files - next);
    work(next, count);
    done += count;
    next = (next + count) % files;
  }
  return double(done) / seconds_since(start);
}

// Multiply-adds ×2 of the encoder's matmuls for one image of `patches` patches: patch projection,
// per layer Q/K/V/output (4·h²), MLP (2·h·i) per token and the two attention products (2·t²·h).
double encoder_gflop(const ViTMAEConfig& c, int patches) {
  const double t = patches + 1, h = c.hidden_size, i = c.intermediate_size;
  const double projection = double(patches) * h * 3 * c.patch_size * c.patch_size;
  const double layer = t * (4 * h * h + 2 * h * i) + 2 * t * t * h;
  return 2 * (projection + c.num_hidden_layers * layer) / 1e9;
}

double sgemm_gflops(double min_seconds) {
  auto a = torch::randn({1024, 1024}), b = torch::randn({1024, 1024});
  torch::mm(a, b);
  int calls = 0;
  const auto start = Clock::now();
  while (seconds_since(start) < min_seconds) {
    torch::mm(a, b);
    ++calls;
  }
  return 2.0 * 1024 * 1024 * 1024 * calls / seconds_since(start) / 1e9;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

std::vector<ImageSpeedRow> bench_image_inputs(std::span<const fs::path> files,
                                              const ImageSpeedOptions& options) {
  if (files.empty()) fail("image speed benchmark: no image files");
  if (options.batch_size <= 0 || options.repeats <= 0 || options.threads <= 0) {
    fail("image speed benchmark: batch_size, repeats and threads must be positive");
  }
  nn::set_threads(options.threads);
  const int opencv_threads = cv::getNumThreads();
  cv::setNumThreads(1);
  torch::InferenceMode inference;
  std::vector<SpeedSubject> subjects;
  subjects.push_back(make_subject(ImageInput::kStructured, options));
  subjects.push_back(make_subject(ImageInput::kFullImage, options));
  std::vector<std::vector<double>> embed(subjects.size()), full_path(subjects.size());
  std::vector<double> sgemm;
  for (int rep = 0; rep < options.repeats; ++rep) {
    sgemm.push_back(sgemm_gflops(std::min(1.0, options.min_seconds)));
    for (size_t s = 0; s < subjects.size(); ++s) {
      SpeedSubject& subject = subjects[s];
      std::vector<cv::Mat> decoded;
      for (size_t i = 0; i < std::min(files.size(), size_t(options.batch_size)); ++i) {
        decoded.push_back(load_image(files[i], subject.decode));
      }
      const torch::Tensor ready = subject.model.inputs(decoded, std::nullopt);
      embed[s].push_back(images_per_second(ready.size(0), options, [&](size_t, size_t) {
        subject.model.embed(ready);
      }));
      full_path[s].push_back(images_per_second(files.size(), options, [&](size_t first, size_t count) {
        std::vector<cv::Mat> images;
        for (size_t i = first; i < first + count; ++i) images.push_back(load_image(files[i], subject.decode));
        subject.model.embed(subject.model.inputs(images, std::nullopt));
      }));
    }
  }
  cv::setNumThreads(opencv_threads);
  std::vector<ImageSpeedRow> rows;
  for (size_t s = 0; s < subjects.size(); ++s) {
    ImageSpeedRow row;
    row.input = subjects[s].input;
    const int side = subjects[s].model.encoder_config().input_size() / options.model.patch_size;
    row.tokens = side * side + 1;
    row.gflop_per_image = encoder_gflop(options.model, side * side);
    row.sgemm_gflops = median(sgemm);
    row.embed_images_per_second = median(embed[s]);
    row.decode_embed_images_per_second = median(full_path[s]);
    row.min_decode_embed = *std::min_element(full_path[s].begin(), full_path[s].end());
    row.max_decode_embed = *std::max_element(full_path[s].begin(), full_path[s].end());
    rows.push_back(row);
  }
  return rows;
}

std::string image_speed_markdown(std::span<const ImageSpeedRow> rows) {
  double full = 0;
  for (const ImageSpeedRow& row : rows) {
    if (row.input == "full") full = row.decode_embed_images_per_second;
  }
  std::string out =
      "| input | tokens | GFLOP/image | embed img/s | GFLOP/s | decode+embed img/s (min–max) | "
      "× full (decode+embed) | sgemm 1024³ GFLOP/s |\n"
      "|---|---|---|---|---|---|---|---|\n";
  for (const ImageSpeedRow& row : rows) {
    out += fmt::format("| {} | {} | {:.2f} | {:.0f} | {:.0f} | {:.0f} ({:.0f}–{:.0f}) | {:.2f}× | {:.0f} |\n",
                       row.input, row.tokens, row.gflop_per_image, row.embed_images_per_second,
                       row.embed_images_per_second * row.gflop_per_image,
                       row.decode_embed_images_per_second, row.min_decode_embed,
                       row.max_decode_embed, full > 0 ? row.decode_embed_images_per_second / full : 0.0,
                       row.sgemm_gflops);
  }
  return out;
}

}  // namespace doppel
