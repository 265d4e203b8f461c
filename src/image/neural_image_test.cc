// Tests of MAE pretraining, the PCA head and the NeuralImageEncoder it yields, on synthetic
// photos of coloured shapes that the test draws. Models are tiny and train in about a second.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "catalog/test_dir.h"
#include "image/augment.h"
#include "image/contrastive_trainer.h"
#include "image/image_io.h"
#include "image/image_nn_eval.h"
#include "image/image_nn_test_util.h"
#include "image/image_test_util.h"
#include "image/mae_trainer.h"
#include "image/neural_image_encoder.h"
#include "util/expect_error.h"
#include "util/files.h"

namespace doppel {
namespace {

namespace fs = std::filesystem;
using doppel::testing::quick_mae;
using doppel::testing::shape_photo;
using doppel::testing::TestDir;
using doppel::testing::tiny_config;
using doppel::testing::tiny_encoder;

double norm(const float* row, int d) {
  double sum = 0;
  for (int i = 0; i < d; ++i) sum += double(row[i]) * row[i];
  return std::sqrt(sum);
}

class NeuralImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 16; ++i) {
      refs_.push_back(dir_.write("photos/" + std::to_string(i) + ".png",
                                 doppel::testing::encode(shape_photo(i), ".png"))
                          .string());
    }
  }
  fs::path model_dir() const { return dir_.path() / "model"; }

  TestDir dir_;
  std::vector<std::string> refs_;
};

TEST_F(NeuralImageTest, MaeLossFallsAndTheFolderBecomesAnEncoder) {
  const auto report = pretrain_mae(model_dir(), refs_, {}, quick_mae(60), tiny_config(),
                                   tiny_encoder(), /*resume=*/false);
  EXPECT_EQ(report.steps, 60);
  EXPECT_EQ(report.images, 16u);
  ASSERT_GE(report.loss_curve.size(), 4u);
  const double first = report.loss_curve.front().second, last = report.loss_curve.back().second;
  EXPECT_LT(last, 0.6 * first) << "first " << first << " last " << last;
  EXPECT_GT(report.images_per_second, 0);
  for (const char* file : {"config.json", "model.safetensors", "encoder.json", "head.safetensors",
                           "mae_log.json", "checkpoints/mae/state.json"}) {
    EXPECT_TRUE(fs::exists(model_dir() / file)) << file;
  }
  const auto log = nlohmann::json::parse(read_file(model_dir() / "mae_log.json"));
  EXPECT_EQ(log["steps"], 60);
  EXPECT_EQ(log["loss_curve"].size(), report.loss_curve.size());

  ASSERT_TRUE(NeuralImageEncoder::exists(model_dir()));
  const auto encoder = NeuralImageEncoder::load(model_dir(), {});
  EXPECT_EQ(encoder.dim(), 8);
  EXPECT_EQ(encoder.name(), "vitmae-L2-H32-structured-cls-8");
  const auto corrupt = dir_.write("photos/corrupt.jpg", "\xFF\xD8\xFF\xE0 not really a jpeg");
  std::vector<Listing> listings(6);
  const std::vector<std::string> images = {
      refs_[0], corrupt.string(), "", refs_[0], (dir_.path() / "missing.png").string(), refs_[1]};
  for (size_t i = 0; i < listings.size(); ++i) {
    listings[i].id = "L" + std::to_string(i);
    listings[i].image = images[i];
  }
  std::vector<float> out(listings.size() * 8, -1.0f);
  ASSERT_NO_THROW(encoder.encode(listings, out.data()));
  EXPECT_NEAR(norm(&out[0], 8), 1.0, 1e-5);
  EXPECT_NEAR(norm(&out[5 * 8], 8), 1.0, 1e-5);
  for (int zero_row : {1, 2, 4}) EXPECT_EQ(norm(&out[zero_row * 8], 8), 0.0) << zero_row;
  // Equal to float rounding, not bit for bit: where a row sits in the batch picks its kernel on
  // some CPUs (AVX without AVX2 moved the sixth digit).
  for (int k = 0; k < 8; ++k)
    EXPECT_NEAR(out[k], out[3 * 8 + k], 1e-5) << "same image, same vector";
  double dot = 0;
  for (int k = 0; k < 8; ++k) dot += out[k] * out[5 * 8 + k];
  EXPECT_LT(dot, 0.9999) << "different photos must not collapse onto one vector";

  // encode_images on the decoded photo gives the row encode() gave for its file.
  const cv::Mat photo = load_image(refs_[0]);
  std::vector<float> direct(8);
  encoder.encode_images(std::span(&photo, 1), direct.data());
  for (int k = 0; k < 8; ++k) EXPECT_NEAR(direct[k], out[k], 1e-6);
}

TEST_F(NeuralImageTest, MaeResumesFromItsCheckpoint) {
  MaeOptions options = quick_mae(10);
  options.fit_head = false;
  pretrain_mae(model_dir(), refs_, {}, options, tiny_config(), tiny_encoder(), false);
  options.max_steps = 15;
  const auto report =
      pretrain_mae(model_dir(), refs_, {}, options, std::nullopt, tiny_encoder(), true);
  EXPECT_EQ(report.resumed_from_step, 10);
  EXPECT_EQ(report.steps, 15);
  EXPECT_FALSE(fs::exists(model_dir() / "encoder.json"));
}

TEST_F(NeuralImageTest, ResumeWithoutACheckpointAndTrainingWithoutImagesAreErrors) {
  EXPECT_THROW(
      pretrain_mae(model_dir(), refs_, {}, quick_mae(2), tiny_config(), tiny_encoder(), true),
      Error);
  const std::vector<std::string> broken = {(dir_.path() / "nothing.png").string()};
  EXPECT_THROW(pretrain_mae(dir_.path() / "other", broken, {}, quick_mae(2), tiny_config(),
                            tiny_encoder(), false),
               Error);
  EXPECT_THROW(pretrain_mae(dir_.path() / "third", refs_, {}, quick_mae(2), std::nullopt,
                            tiny_encoder(), false),
               Error);
}

TEST_F(NeuralImageTest, EveryInputRecipeTrainsAndEmbeds) {
  for (ImageInput input : {ImageInput::kFullImage, ImageInput::kRandomCells}) {
    const fs::path dir = dir_.path() / std::string(image_input_name(input));
    pretrain_mae(dir, refs_, {}, quick_mae(3), tiny_config(), tiny_encoder(input), false);
    const auto encoder = NeuralImageEncoder::load(dir, {});
    EXPECT_EQ(encoder.config().input, input);
    std::vector<cv::Mat> photos = {load_image(refs_[2]), load_image(refs_[2])};
    std::vector<float> out(16);
    encoder.encode_images(photos, out.data());
    EXPECT_NEAR(norm(out.data(), 8), 1.0, 1e-5) << image_input_name(input);
    for (int k = 0; k < 8; ++k) EXPECT_NEAR(out[k], out[8 + k], 1e-5) << "deterministic";
  }
}

// The 16 photos are 8 "products" (k and k + 8 share a label); the labelled contrastive stage must
// bring each photo's partner closer than it was after MAE alone.
TEST_F(NeuralImageTest, ContrastiveStagePullsLabelledPairsTogether) {
  pretrain_mae(model_dir(), refs_, {}, quick_mae(20), tiny_config(), tiny_encoder(), false);
  auto partner_similarity = [&] {
    const auto encoder = NeuralImageEncoder::load(model_dir(), {});
    std::vector<cv::Mat> photos;
    for (const auto& ref : refs_) photos.push_back(load_image(ref));
    std::vector<float> out(16 * 8);
    encoder.encode_images(photos, out.data());
    double partner = 0;
    for (int k = 0; k < 8; ++k) {
      for (int j = 0; j < 8; ++j) partner += out[k * 8 + j] * out[(k + 8) * 8 + j];
    }
    return partner / 8;
  };
  const double before = partner_similarity();
  std::vector<int> labels(16);
  for (int i = 0; i < 16; ++i) labels[size_t(i)] = i % 8;
  ContrastiveOptions options;
  options.batch_size = 8;
  options.epochs = 1000;
  options.max_steps = 30;
  options.log_every = 5;
  options.optimizer.lr = 3e-3;
  const auto report = train_contrastive(model_dir(), refs_, labels, {}, options, false);
  EXPECT_EQ(report.steps, 30);
  EXPECT_LT(report.loss_curve.back().second, report.loss_curve.front().second);
  EXPECT_TRUE(fs::exists(model_dir() / "contrastive_log.json"));
  const double after = partner_similarity();
  EXPECT_GT(after, before + 0.1) << "before " << before << " after " << after;
  const std::vector<int> too_few = {1};
  EXPECT_THROW(train_contrastive(model_dir(), refs_, too_few, {}, options, false), Error);
}

TEST_F(NeuralImageTest, ModelFolderServesAsAnImageMethodForTheRetrievalBenchmark) {
  pretrain_mae(model_dir(), refs_, {}, quick_mae(2), tiny_config(), tiny_encoder(), false);
  const ImageMethod method = neural_image_method(model_dir(), "mae");
  EXPECT_EQ(method.name, "mae");
  ASSERT_EQ(method.dim, 8);
  std::vector<cv::Mat> photos = {load_image(refs_[4]), load_image(refs_[4]), load_image(refs_[7])};
  std::vector<float> out(24);
  method.embed(photos, out);
  auto row = [&](int i) { return std::span<const float>(out).subspan(size_t(i) * 8, 8); };
  EXPECT_NEAR(method.distance(row(0), row(1)), 0.0f, 1e-6);
  EXPECT_GT(method.distance(row(0), row(2)), 1e-6);
}

TEST_F(NeuralImageTest, SpeedBenchmarkTimesBothInputsWithTheirTokenCounts) {
  ImageSpeedOptions options;
  options.model = tiny_config();
  options.model.patch_size = 16;
  options.batch_size = 4;
  options.threads = 1;
  options.min_seconds = 0.02;
  options.repeats = 1;
  const std::vector<fs::path> files = {refs_[0], refs_[1], refs_[2]};
  const auto rows = bench_image_inputs(files, options);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].input, "structured");
  EXPECT_EQ(rows[0].tokens, 65);
  EXPECT_EQ(rows[1].input, "full");
  EXPECT_EQ(rows[1].tokens, 197);
  for (const auto& row : rows) {
    EXPECT_GT(row.embed_images_per_second, 0) << row.input;
    EXPECT_GT(row.decode_embed_images_per_second, 0) << row.input;
  }
  EXPECT_NE(image_speed_markdown(rows).find("| structured | 65 |"), std::string::npos);
}

TEST(ImageEncoderConfig, RoundTripsAndRejectsBadFiles) {
  TestDir dir;
  ImageEncoderConfig c;
  c.input = ImageInput::kRandomCells;
  c.pooling = "mean";
  c.patches.inference_cells = {3, 5};
  c.save(dir.path() / "encoder.json");
  const auto back = ImageEncoderConfig::load(dir.path() / "encoder.json");
  EXPECT_EQ(back.input, ImageInput::kRandomCells);
  EXPECT_EQ(back.pooling, "mean");
  EXPECT_EQ(back.patches.inference_cells, (std::vector<int>{3, 5}));
  EXPECT_EQ(back.input_size(), 128);

  auto load = [](const fs::path& p) { ImageEncoderConfig::load(p); };
  auto json = nlohmann::json::parse(read_file(dir.path() / "encoder.json"));
  json["format_version"] = 7;
  expect_load_error(dir.path() / "encoder.json", json.dump(), load, "format_version 7");
  json["format_version"] = 1;
  json["input"] = "panorama";
  expect_load_error(dir.path() / "encoder.json", json.dump(), load, "panorama");
  json.erase("input");
  expect_load_error(dir.path() / "encoder.json", json.dump(), load, "input");

  ImageEncoderConfig odd;
  odd.patches.random_cells = 3;  // 5 views do not tile a square
  odd.patches.inference_cells = {1, 3, 7};
  EXPECT_THROW(odd.validate(16), Error);
  ImageEncoderConfig misfit;
  misfit.patches.cell_size = 36;  // 72 px input, 16 px patches
  EXPECT_THROW(misfit.validate(16), Error);
}

TEST(Augment, IsSeededAndKeepsAnRgbImage) {
  const cv::Mat photo = shape_photo(3);
  const AugmentOptions options;
  const cv::Mat a = augment_image(photo, options, 11), b = augment_image(photo, options, 11);
  ASSERT_EQ(a.type(), CV_8UC3);
  EXPECT_EQ(cv::norm(a, b, cv::NORM_L1), 0.0);
  bool some_differ = false;
  for (uint64_t seed = 12; seed < 20; ++seed) {
    const cv::Mat c = augment_image(photo, options, seed);
    EXPECT_LE(c.cols, photo.cols);
    EXPECT_GE(c.cols * c.rows, int(0.3 * photo.cols * photo.rows));
    some_differ |= c.size() != a.size() || cv::norm(a, c, cv::NORM_L1) > 0;
  }
  EXPECT_TRUE(some_differ);
  AugmentOptions bad;
  bad.min_crop_area = 0;
  EXPECT_THROW(bad.validate(), Error);
}

}  // namespace
}  // namespace doppel
