#include "image/vit_mae_config.h"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>

#include "nn/hf_config_fields.h"
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
  nn::validate_encoder_fields("ViTMAE", *this);
  auto positive = [](const char* field, int value) {
    if (value <= 0) fail("ViTMAE config: {} must be positive, got {}", field, value);
  };
  positive("image_size", image_size);
  positive("patch_size", patch_size);
  positive("num_channels", num_channels);
  positive("decoder_num_attention_heads", decoder_num_attention_heads);
  positive("decoder_hidden_size", decoder_hidden_size);
  positive("decoder_num_hidden_layers", decoder_num_hidden_layers);
  positive("decoder_intermediate_size", decoder_intermediate_size);
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
  if (!(mask_ratio >= 0 && mask_ratio < 1)) {
    fail("ViTMAE config: mask_ratio must be in [0, 1), got {}", mask_ratio);
  }
}

void ViTMAEConfig::save(const std::filesystem::path& config_json) const {
  json config = {
      {"architectures", {"ViTMAEForPreTraining"}},
      {"model_type", "vit_mae"},
      {"image_size", image_size},
      {"patch_size", patch_size},
      {"num_channels", num_channels},
      {"qkv_bias", qkv_bias},
      {"decoder_num_attention_heads", decoder_num_attention_heads},
      {"decoder_hidden_size", decoder_hidden_size},
      {"decoder_num_hidden_layers", decoder_num_hidden_layers},
      {"decoder_intermediate_size", decoder_intermediate_size},
      {"mask_ratio", nn::json_decimal(mask_ratio)},
      {"norm_pix_loss", norm_pix_loss},
  };
  nn::write_encoder_fields(*this, config);
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
  nn::read_encoder_fields(reader, c);
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
  return nn::validated(std::move(c), config_json);
}

}  // namespace doppel
