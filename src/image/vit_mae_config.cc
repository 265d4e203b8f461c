#include "image/vit_mae_config.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <string>

#include "util/error.h"
#include "util/files.h"
#include "util/json_file.h"

namespace doppel {

namespace {

using nlohmann::json;

// A square size: a number, or an [n, n] list as transformers also writes.
void read_square(const JsonFields& fields, const char* field, int& value) {
  auto it = fields.object().find(field);
  if (it == fields.object().end() || it->is_null()) {
    fail("{}: missing field \"{}\"", fields.file().string(), field);
  }
  if (it->is_array() && it->size() == 2 && (*it)[0].is_number_integer() && (*it)[1] == (*it)[0]) {
    value = (*it)[0].get<int>();
  } else if (it->is_number_integer()) {
    value = it->get<int>();
  } else {
    fail("{}: field \"{}\" must be a number or a square [n, n] size, got {}", fields.file().string(),
         field, it->dump());
  }
}

// A float as the decimal it was written as (0.02f, not 0.019999999552965164): fmt prints the
// shortest representation that reads back to the same float.
double decimal(float value) { return std::stod(fmt::format("{}", value)); }

}  // namespace

ViTMAEConfig ViTMAEConfig::cpu_default() {
  ViTMAEConfig c;
  c.hidden_size = 192;
  c.num_hidden_layers = 6;
  c.num_attention_heads = 3;
  c.intermediate_size = 768;
  c.image_size = 128;
  c.decoder_num_attention_heads = 4;
  c.decoder_hidden_size = 128;
  c.decoder_num_hidden_layers = 2;
  c.decoder_intermediate_size = 512;
  c.norm_pix_loss = true;
  return c;
}

void ViTMAEConfig::validate() const {
  auto positive = [](const char* field, int value) {
    if (value <= 0) fail("ViTMAE config: {} must be positive, got {}", field, value);
  };
  positive("hidden_size", hidden_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("intermediate_size", intermediate_size);
  positive("image_size", image_size);
  positive("patch_size", patch_size);
  positive("num_channels", num_channels);
  positive("decoder_num_attention_heads", decoder_num_attention_heads);
  positive("decoder_hidden_size", decoder_hidden_size);
  positive("decoder_num_hidden_layers", decoder_num_hidden_layers);
  positive("decoder_intermediate_size", decoder_intermediate_size);
  if (hidden_size % num_attention_heads != 0) {
    fail("ViTMAE config: hidden_size {} is not a multiple of num_attention_heads {}", hidden_size,
         num_attention_heads);
  }
  if (decoder_hidden_size % decoder_num_attention_heads != 0) {
    fail("ViTMAE config: decoder_hidden_size {} is not a multiple of decoder_num_attention_heads {}",
         decoder_hidden_size, decoder_num_attention_heads);
  }
  // The 2-D sin-cos position embeddings split the width into 4 equal parts (sin/cos of rows/cols).
  if (hidden_size % 4 != 0 || decoder_hidden_size % 4 != 0) {
    fail("ViTMAE config: hidden_size {} and decoder_hidden_size {} must be multiples of 4 (2-D "
         "sin-cos position embeddings)", hidden_size, decoder_hidden_size);
  }
  if (image_size % patch_size != 0) {
    fail("ViTMAE config: image_size {} is not a multiple of patch_size {}", image_size, patch_size);
  }
  if (hidden_act != "gelu" && hidden_act != "gelu_new" && hidden_act != "gelu_pytorch_tanh" &&
      hidden_act != "relu") {
    fail("ViTMAE config: hidden_act \"{}\" is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)",
         hidden_act);
  }
  for (float p : {hidden_dropout_prob, attention_probs_dropout_prob}) {
    if (p < 0 || p >= 1) fail("ViTMAE config: dropout probability {} is not in [0, 1)", p);
  }
  if (!(mask_ratio >= 0 && mask_ratio < 1)) {
    fail("ViTMAE config: mask_ratio must be in [0, 1), got {}", mask_ratio);
  }
  if (layer_norm_eps <= 0) fail("ViTMAE config: layer_norm_eps must be positive, got {}", layer_norm_eps);
}

void ViTMAEConfig::save(const std::filesystem::path& config_json) const {
  json config = {
      {"architectures", {"ViTMAEForPreTraining"}},
      {"model_type", "vit_mae"},
      {"hidden_size", hidden_size},
      {"num_hidden_layers", num_hidden_layers},
      {"num_attention_heads", num_attention_heads},
      {"intermediate_size", intermediate_size},
      {"hidden_act", hidden_act},
      {"hidden_dropout_prob", decimal(hidden_dropout_prob)},
      {"attention_probs_dropout_prob", decimal(attention_probs_dropout_prob)},
      {"initializer_range", decimal(initializer_range)},
      {"layer_norm_eps", decimal(layer_norm_eps)},
      {"image_size", image_size},
      {"patch_size", patch_size},
      {"num_channels", num_channels},
      {"qkv_bias", qkv_bias},
      {"decoder_num_attention_heads", decoder_num_attention_heads},
      {"decoder_hidden_size", decoder_hidden_size},
      {"decoder_num_hidden_layers", decoder_num_hidden_layers},
      {"decoder_intermediate_size", decoder_intermediate_size},
      {"mask_ratio", decimal(mask_ratio)},
      {"norm_pix_loss", norm_pix_loss},
  };
  write_file_atomic(config_json, config.dump(2) + "\n");
}

ViTMAEConfig ViTMAEConfig::load(const std::filesystem::path& config_json) {
  const auto config = read_json_object(config_json);
  const JsonFields reader(config, config_json);
  std::string model_type;
  reader.read("model_type", true, model_type);
  if (model_type != "vit_mae") {
    fail("{}: model_type is \"{}\", doppel's image encoder reads \"vit_mae\" models",
         config_json.string(), model_type);
  }
  ViTMAEConfig c;
  reader.read("hidden_size", true, c.hidden_size);
  reader.read("num_hidden_layers", true, c.num_hidden_layers);
  reader.read("num_attention_heads", true, c.num_attention_heads);
  reader.read("intermediate_size", true, c.intermediate_size);
  reader.read("hidden_act", false, c.hidden_act);
  reader.read("hidden_dropout_prob", false, c.hidden_dropout_prob);
  reader.read("attention_probs_dropout_prob", false, c.attention_probs_dropout_prob);
  reader.read("initializer_range", false, c.initializer_range);
  reader.read("layer_norm_eps", false, c.layer_norm_eps);
  read_square(reader, "image_size", c.image_size);
  read_square(reader, "patch_size", c.patch_size);
  reader.read("num_channels", false, c.num_channels);
  reader.read("qkv_bias", false, c.qkv_bias);
  reader.read("decoder_num_attention_heads", false, c.decoder_num_attention_heads);
  reader.read("decoder_hidden_size", false, c.decoder_hidden_size);
  reader.read("decoder_num_hidden_layers", false, c.decoder_num_hidden_layers);
  reader.read("decoder_intermediate_size", false, c.decoder_intermediate_size);
  reader.read("mask_ratio", false, c.mask_ratio);
  reader.read("norm_pix_loss", false, c.norm_pix_loss);
  try {
    c.validate();
  } catch (const Error& e) {
    fail("{}: {}", config_json.string(), e.what());
  }
  return c;
}

}  // namespace doppel
