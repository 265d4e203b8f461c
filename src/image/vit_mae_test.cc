// Tests of the ViT-MAE model: config.json in Hugging Face's layout, parameter names, the fixed
// position embeddings, patchify, masking, and loading HF-layout checkpoint folders. Models are tiny.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "catalog/test_dir.h"
#include "image/image_model.h"
#include "image/vit_mae_config.h"
#include "image/vit_mae_model.h"
#include "nn/state_dict.h"
#include "util/expect_error.h"
#include "util/files.h"

namespace doppel {
namespace {

namespace fs = std::filesystem;
using doppel::testing::TestDir;

// 64² input, 16 px patches: a 4×4 grid.
ViTMAEConfig tiny_config() {
  ViTMAEConfig c;
  c.hidden_size = 16;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 32;
  c.image_size = 64;
  c.decoder_hidden_size = 8;
  c.decoder_num_hidden_layers = 1;
  c.decoder_num_attention_heads = 2;
  c.decoder_intermediate_size = 16;
  return c;
}

ImageEncoderConfig tiny_encoder() {
  ImageEncoderConfig e;
  e.patches.cell_size = 32;  // 2×2 views of 32² = the 64² input
  e.out_dim = 4;
  return e;
}

TEST(ViTMAEConfig, SavesHuggingFaceFieldsAndLoadsThemBack) {
  TestDir dir;
  ViTMAEConfig c = ViTMAEConfig::cpu_default();
  c.mask_ratio = 0.6f;
  c.save(dir.path() / "config.json");
  auto json = nlohmann::json::parse(read_file(dir.path() / "config.json"));
  EXPECT_EQ(json["model_type"], "vit_mae");
  EXPECT_EQ(json["architectures"][0], "ViTMAEForPreTraining");
  EXPECT_EQ(json["decoder_hidden_size"], 128);
  EXPECT_EQ(json["norm_pix_loss"], true);
  EXPECT_EQ(json["initializer_range"].dump(), "0.02");
  EXPECT_EQ(json["mask_ratio"].dump(), "0.6");
  const auto back = ViTMAEConfig::load(dir.path() / "config.json");
  EXPECT_EQ(back.hidden_size, 192);
  EXPECT_EQ(back.num_hidden_layers, 6);
  EXPECT_EQ(back.image_size, 128);
  EXPECT_EQ(back.decoder_num_hidden_layers, 2);
  EXPECT_FLOAT_EQ(back.mask_ratio, 0.6f);
  EXPECT_TRUE(back.norm_pix_loss);
  EXPECT_EQ(back.num_patches(), 64);
}

TEST(ViTMAEConfig, MissingOptionalFieldsTakeTransformersDefaults) {
  TestDir dir;
  const auto path = dir.write("config.json", R"({"model_type": "vit_mae", "hidden_size": 64,
      "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128,
      "image_size": [32, 32], "patch_size": 8, "transformers_version": "4.40.0"})");
  const auto c = ViTMAEConfig::load(path);
  EXPECT_EQ(c.image_size, 32);
  EXPECT_EQ(c.decoder_hidden_size, 512);
  EXPECT_EQ(c.decoder_num_hidden_layers, 8);
  EXPECT_FLOAT_EQ(c.mask_ratio, 0.75f);
  EXPECT_FALSE(c.norm_pix_loss);
  EXPECT_TRUE(c.qkv_bias);
}

TEST(ViTMAEConfig, RejectsBadFilesNamingTheFileAndField) {
  TestDir dir;
  const auto path = dir.path() / "config.json";
  auto load = [](const fs::path& p) { ViTMAEConfig::load(p); };
  const std::string shape = R"("num_hidden_layers": 2, "num_attention_heads": 4,
      "intermediate_size": 128, "patch_size": 8)";
  expect_load_error(path, "{not json", load, "not valid JSON");
  expect_load_error(path, R"({"model_type": "vit_mae", "image_size": 32, )" + shape + "}", load,
                    "\"hidden_size\"");
  expect_load_error(path, R"({"model_type": "bert", "hidden_size": 64, "image_size": 32, )" + shape + "}",
                    load, "\"bert\"");
  expect_load_error(path, R"({"model_type": "vit_mae", "hidden_size": "64", "image_size": 32, )" + shape + "}",
                    load, "\"hidden_size\" has the wrong type");
  expect_load_error(path, R"({"model_type": "vit_mae", "hidden_size": 64, "image_size": [32, 16], )" + shape + "}",
                    load, "\"image_size\"");
  expect_load_error(path, R"({"model_type": "vit_mae", "hidden_size": 64, "image_size": 36, )" + shape + "}",
                    load, "multiple of patch_size");
  expect_load_error(path, R"({"model_type": "vit_mae", "hidden_size": 62, "image_size": 32, )" + shape + "}",
                    load, "num_attention_heads");
}

TEST(ViTMAEModel, ParametersCarryHuggingFaceNames) {
  torch::manual_seed(0);
  ViTMAEForPreTraining model(tiny_config());
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& [name, tensor] : nn::module_state(*model)) shapes[name] = tensor.sizes().vec();
  const std::map<std::string, std::vector<int64_t>> expected_subset = {
      {"vit.embeddings.cls_token", {1, 1, 16}},
      {"vit.embeddings.position_embeddings", {1, 17, 16}},
      {"vit.embeddings.patch_embeddings.projection.weight", {16, 3, 16, 16}},
      {"vit.embeddings.patch_embeddings.projection.bias", {16}},
      {"vit.encoder.layer.0.attention.attention.query.weight", {16, 16}},
      {"vit.encoder.layer.0.attention.attention.key.bias", {16}},
      {"vit.encoder.layer.0.attention.attention.value.weight", {16, 16}},
      {"vit.encoder.layer.0.attention.output.dense.weight", {16, 16}},
      {"vit.encoder.layer.0.intermediate.dense.weight", {32, 16}},
      {"vit.encoder.layer.0.output.dense.weight", {16, 32}},
      {"vit.encoder.layer.0.layernorm_before.weight", {16}},
      {"vit.encoder.layer.1.layernorm_after.bias", {16}},
      {"vit.layernorm.weight", {16}},
      {"decoder.decoder_embed.weight", {8, 16}},
      {"decoder.mask_token", {1, 1, 8}},
      {"decoder.decoder_pos_embed", {1, 17, 8}},
      {"decoder.decoder_layers.0.attention.attention.query.weight", {8, 8}},
      {"decoder.decoder_layers.0.intermediate.dense.weight", {16, 8}},
      {"decoder.decoder_norm.weight", {8}},
      {"decoder.decoder_pred.weight", {16 * 16 * 3, 8}},
      {"decoder.decoder_pred.bias", {16 * 16 * 3}},
  };
  for (const auto& [name, shape] : expected_subset) {
    ASSERT_TRUE(shapes.count(name)) << name;
    EXPECT_EQ(shapes[name], shape) << name;
  }
  // Per layer: 2 LayerNorms + 4 attention linears + 2 MLP linears, weight and bias each. Encoder:
  // cls, positions, projection (2), final norm (2). Decoder: embed (2), mask token, positions,
  // norm (2), pred (2). Nothing else may be stored.
  const size_t per_layer = 16;
  EXPECT_EQ(shapes.size(), 6 + 2 * per_layer + 8 + 1 * per_layer);
  for (const auto& item : model->named_parameters()) {
    const bool fixed = item.key().ends_with("position_embeddings") || item.key().ends_with("pos_embed");
    EXPECT_EQ(item.value().requires_grad(), !fixed) << item.key();
  }
}

TEST(ViTMAEModel, PositionEmbeddingsAreMaesFixedSinCos) {
  // dim 8: frequencies 1 and 1/100 per quarter; patch 1 of a 2×2 grid is row 0, column 1.
  auto p = sincos_position_embeddings(8, 2);
  ASSERT_EQ(p.sizes(), torch::IntArrayRef({5, 8}));
  EXPECT_TRUE(torch::equal(p[0], torch::zeros({8})));  // CLS
  const std::vector<float> expected = {std::sin(1.0f), std::sin(0.01f), std::cos(1.0f), std::cos(0.01f),
                                       0.0f, 0.0f, 1.0f, 1.0f};
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(p[2][i].item<float>(), expected[i], 1e-6) << i;
  // Patch 2 is row 1, column 0: the halves swap roles.
  EXPECT_NEAR(p[3][4].item<float>(), std::sin(1.0f), 1e-6);
  EXPECT_NEAR(p[3][0].item<float>(), 0.0f, 1e-6);
}

TEST(ViTMAEModel, PatchifyOrdersPixelsAsTransformers) {
  ViTMAEForPreTraining model(tiny_config());
  auto pixels = torch::randn({2, 3, 64, 64});
  auto patches = model->patchify(pixels);
  ASSERT_EQ(patches.sizes(), torch::IntArrayRef({2, 16, 16 * 16 * 3}));
  // Pixel (c, y, x) lands in patch (y/16)·4 + x/16 at ((y%16)·16 + x%16)·3 + c.
  for (auto [b, c, y, x] : {std::array{0, 0, 0, 0}, {1, 2, 37, 5}, {0, 1, 63, 63}, {1, 0, 17, 40}}) {
    const int patch = (y / 16) * 4 + x / 16, offset = ((y % 16) * 16 + x % 16) * 3 + c;
    EXPECT_EQ(patches[b][patch][offset].item<float>(), pixels[b][c][y][x].item<float>());
  }
}

TEST(ViTMAEModel, MaskingKeepsTheLowestNoiseAndWithoutMaskingMatchesTheFullForward) {
  torch::manual_seed(1);
  ViTMAEConfig config = tiny_config();
  ViTMAEForPreTraining model(config);
  model->eval();
  auto pixels = torch::randn({2, 3, 64, 64});
  auto noise = torch::rand({2, 16});
  auto out = model->forward(pixels, noise);
  EXPECT_EQ(out.mask.sum().item<float>(), 2 * 12);  // 75% of 16 hidden per image
  EXPECT_EQ(out.logits.sizes(), torch::IntArrayRef({2, 16, 768}));
  // The 4 kept patches are those of lowest noise.
  auto kept_noise_max = std::get<0>(noise.masked_fill(out.mask.to(torch::kBool), -1).max(1));
  auto hidden_noise_min = std::get<0>(noise.masked_fill(out.mask.to(torch::kBool).logical_not(), 2).min(1));
  EXPECT_TRUE((kept_noise_max < hidden_noise_min).all().item<bool>());
  EXPECT_GT(out.loss.item<float>(), 0);

  config.mask_ratio = 0;
  ViTMAEModel encoder(config);
  encoder->eval();
  auto in_order = torch::arange(16, torch::kFloat32).repeat({2, 1});
  auto masked = encoder->forward_masked(pixels, in_order);
  EXPECT_TRUE(torch::allclose(masked.hidden, encoder->forward(pixels), 1e-5, 1e-5));
  EXPECT_EQ(masked.mask.sum().item<float>(), 0);
}

TEST(ViTMAEModel, LossCountsOnlyHiddenPatches) {
  torch::manual_seed(2);
  ViTMAEConfig config = tiny_config();
  config.norm_pix_loss = true;
  ViTMAEForPreTraining model(config);
  model->eval();
  auto pixels = torch::randn({1, 3, 64, 64});
  auto noise = torch::rand({1, 16});
  auto out = model->forward(pixels, noise);
  auto target = model->patchify(pixels);
  target = (target - target.mean(-1, true)) / (target.var(-1, true, true) + 1e-6).sqrt();
  auto per_patch = (out.logits - target).pow(2).mean(-1);
  auto hidden = out.mask.to(torch::kBool);
  EXPECT_NEAR(out.loss.item<float>(), per_patch.masked_select(hidden).mean().item<float>(), 1e-5);
  EXPECT_GT(std::abs(out.loss.item<float>() - per_patch.mean().item<float>()), 1e-4);
}

// What transformers' ViTMAEForPreTraining.save_pretrained writes: config.json with its extra
// fields, model.safetensors under the HF names (checked above), encoder and decoder.
void write_hf_folder(const fs::path& dir, const ViTMAEConfig& config, ViTMAEForPreTraining& model) {
  nlohmann::json json = nlohmann::json::parse(
      R"({"architectures": ["ViTMAEForPreTraining"], "model_type": "vit_mae", "torch_dtype": "float32",
          "transformers_version": "4.40.0", "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0,
          "initializer_range": 0.02, "layer_norm_eps": 1e-12, "num_channels": 3, "qkv_bias": true,
          "mask_ratio": 0.75, "norm_pix_loss": false, "hidden_act": "gelu"})");
  json["hidden_size"] = config.hidden_size;
  json["num_hidden_layers"] = config.num_hidden_layers;
  json["num_attention_heads"] = config.num_attention_heads;
  json["intermediate_size"] = config.intermediate_size;
  json["image_size"] = config.image_size;
  json["patch_size"] = config.patch_size;
  json["decoder_hidden_size"] = config.decoder_hidden_size;
  json["decoder_num_hidden_layers"] = config.decoder_num_hidden_layers;
  json["decoder_num_attention_heads"] = config.decoder_num_attention_heads;
  json["decoder_intermediate_size"] = config.decoder_intermediate_size;
  fs::create_directories(dir);
  write_file_atomic(dir / "config.json", json.dump(2));
  nn::save_state_dict(dir / "model.safetensors", nn::module_state(*model));
}

TEST(ImageModel, LoadsAHuggingFaceFolderAndReproducesItsOutputs) {
  TestDir dir;
  torch::manual_seed(3);
  const ViTMAEConfig config = tiny_config();
  ViTMAEForPreTraining reference(config);
  reference->eval();
  write_hf_folder(dir.path() / "hf", config, reference);

  auto model = ImageModel::load_mae(dir.path() / "hf", tiny_encoder());
  model.train(false);
  auto pixels = torch::randn({2, 3, 64, 64});
  auto noise = torch::rand({2, 16});
  EXPECT_TRUE(torch::allclose(model.mae()->vit(pixels), reference->vit(pixels), 1e-6, 1e-6));
  auto a = model.mae()->forward(pixels, noise), b = reference->forward(pixels, noise);
  EXPECT_TRUE(torch::allclose(a.logits, b.logits, 1e-6, 1e-6));
  EXPECT_FLOAT_EQ(a.loss.item<float>(), b.loss.item<float>());
  EXPECT_TRUE(model.pretrainable());
}

TEST(ImageModel, ReadsTheDecoderNamesTransformers5Saves) {
  TestDir dir;
  torch::manual_seed(6);
  const ViTMAEConfig config = tiny_config();
  ViTMAEForPreTraining reference(config);
  reference->eval();
  write_hf_folder(dir.path(), config, reference);
  auto state = nn::module_state(*reference);
  for (auto& [name, tensor] : state) {
    const std::string legacy = "decoder.decoder_layers.";
    if (name.starts_with(legacy)) name = "decoder.decoder_encoder.layer." + name.substr(legacy.size());
  }
  nn::save_state_dict(dir.path() / "model.safetensors", state);
  auto model = ImageModel::load_mae(dir.path(), tiny_encoder());
  model.train(false);
  auto pixels = torch::randn({1, 3, 64, 64});
  auto noise = torch::rand({1, 16});
  EXPECT_TRUE(torch::allclose(model.mae()->forward(pixels, noise).logits,
                              reference->forward(pixels, noise).logits, 1e-6, 1e-6));
}

TEST(ImageModel, LoadsABareViTMAEModelCheckpoint) {
  TestDir dir;
  torch::manual_seed(4);
  const ViTMAEConfig config = tiny_config();
  ViTMAEForPreTraining reference(config);
  reference->eval();
  write_hf_folder(dir.path(), config, reference);
  // ViTMAEModel.save_pretrained: the encoder's names without "vit.", no decoder.
  nn::save_state_dict(dir.path() / "model.safetensors", nn::module_state(*reference->vit));
  auto model = ImageModel::load_mae(dir.path(), tiny_encoder());
  model.train(false);
  auto pixels = torch::randn({1, 3, 64, 64});
  EXPECT_TRUE(torch::allclose(model.mae()->vit(pixels), reference->vit(pixels), 1e-6, 1e-6));
}

TEST(ImageModel, ACheckpointOfAnotherImageSizeEmbedsWithItsOwnGridPositions) {
  TestDir dir;
  torch::manual_seed(5);
  ViTMAEConfig config = tiny_config();
  config.image_size = 112;  // a 7×7 grid, as a 224² checkpoint has 14×14
  ViTMAEForPreTraining reference(config);
  write_hf_folder(dir.path(), config, reference);
  auto model = ImageModel::load_mae(dir.path(), tiny_encoder());
  EXPECT_FALSE(model.pretrainable());
  model.train(false);
  auto pixels = torch::randn({1, 3, 64, 64});
  auto hidden = model.mae()->vit(pixels);
  EXPECT_EQ(hidden.sizes(), torch::IntArrayRef({1, 17, 16}));
  EXPECT_TRUE(torch::isfinite(hidden).all().item<bool>());
}

TEST(ImageModel, RejectsAWeightFileOfAnotherShapeNamingTheTensor) {
  TestDir dir;
  ViTMAEConfig config = tiny_config();
  ViTMAEForPreTraining other([] {
    ViTMAEConfig c = tiny_config();
    c.intermediate_size = 48;
    return c;
  }());
  write_hf_folder(dir.path(), config, other);
  try {
    ImageModel::load_mae(dir.path(), tiny_encoder());
    ADD_FAILURE() << "expected a shape error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find("intermediate.dense."), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace doppel
