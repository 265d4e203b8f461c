// The config.json fields that every Hugging Face transformer encoder shares (BertConfig,
// ViTMAEConfig: text/bert_config.h, image/vit_mae_config.h), read, written and checked from one
// list, so that the two configs cannot drift apart. Each config handles its own other fields.
//
// Config is any struct with the members hidden_size, num_hidden_layers, num_attention_heads,
// intermediate_size (int), hidden_act (std::string), hidden_dropout_prob,
// attention_probs_dropout_prob, initializer_range and layer_norm_eps (float).
#pragma once

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <string_view>

#include "util/error.h"
#include "util/json_file.h"

namespace doppel::nn {

// A float as the decimal it was written as (0.02, not 0.019999999552965164): fmt prints the
// shortest representation that reads back to the same float.
inline double json_decimal(float value) { return std::stod(fmt::format("{}", value)); }

// Reads the shared fields; the four that give the encoder's shape are required, the others keep
// the config's defaults when missing. Error naming the file and field otherwise (JsonFields).
template <typename Config>
void read_encoder_fields(const JsonFields& fields, Config& c) {
  fields.read("hidden_size", true, c.hidden_size);
  fields.read("num_hidden_layers", true, c.num_hidden_layers);
  fields.read("num_attention_heads", true, c.num_attention_heads);
  fields.read("intermediate_size", true, c.intermediate_size);
  fields.read("hidden_act", false, c.hidden_act);
  fields.read("hidden_dropout_prob", false, c.hidden_dropout_prob);
  fields.read("attention_probs_dropout_prob", false, c.attention_probs_dropout_prob);
  fields.read("initializer_range", false, c.initializer_range);
  fields.read("layer_norm_eps", false, c.layer_norm_eps);
}

// Adds the shared fields to a config.json object.
template <typename Config>
void write_encoder_fields(const Config& c, nlohmann::json& config) {
  config["hidden_size"] = c.hidden_size;
  config["num_hidden_layers"] = c.num_hidden_layers;
  config["num_attention_heads"] = c.num_attention_heads;
  config["intermediate_size"] = c.intermediate_size;
  config["hidden_act"] = c.hidden_act;
  config["hidden_dropout_prob"] = json_decimal(c.hidden_dropout_prob);
  config["attention_probs_dropout_prob"] = json_decimal(c.attention_probs_dropout_prob);
  config["initializer_range"] = json_decimal(c.initializer_range);
  config["layer_norm_eps"] = json_decimal(c.layer_norm_eps);
}

// Error "<model> config: ..." naming the field when a shared value is out of range: a shape that
// is not positive, hidden_size not a multiple of the heads, an activation nn::activation
// (hf_layers.h) does not have, a dropout outside [0, 1), layer_norm_eps not positive.
template <typename Config>
void validate_encoder_fields(std::string_view model, const Config& c) {
  auto positive = [&](const char* field, int value) {
    if (value <= 0) fail("{} config: {} must be positive, got {}", model, field, value);
  };
  positive("hidden_size", c.hidden_size);
  positive("num_hidden_layers", c.num_hidden_layers);
  positive("num_attention_heads", c.num_attention_heads);
  positive("intermediate_size", c.intermediate_size);
  if (c.hidden_size % c.num_attention_heads != 0) {
    fail("{} config: hidden_size {} is not a multiple of num_attention_heads {}", model,
         c.hidden_size, c.num_attention_heads);
  }
  const std::string& act = c.hidden_act;
  if (act != "gelu" && act != "gelu_new" && act != "gelu_pytorch_tanh" && act != "relu") {
    fail("{} config: hidden_act \"{}\" is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)",
         model, act);
  }
  for (float p : {c.hidden_dropout_prob, c.attention_probs_dropout_prob}) {
    if (p < 0 || p >= 1) fail("{} config: dropout probability {} is not in [0, 1)", model, p);
  }
  if (c.layer_norm_eps <= 0) {
    fail("{} config: layer_norm_eps must be positive, got {}", model, c.layer_norm_eps);
  }
}

// `c` once its own validate() passes; Error "<config.json>: <what validate() said>" otherwise, so
// that a bad value read from a file names the file.
template <typename Config>
Config validated(Config c, const std::filesystem::path& config_json) {
  try {
    c.validate();
  } catch (const Error& e) {
    fail("{}: {}", config_json.string(), e.what());
  }
  return c;
}

}  // namespace doppel::nn
