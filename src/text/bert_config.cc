#include "text/bert_config.h"

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/files.h"

namespace doppel {

namespace {

using nlohmann::json;

template <typename T>
void read_field(const json& config, const std::filesystem::path& file, const char* field, bool required,
                T& value) {
  auto it = config.find(field);
  if (it == config.end() || it->is_null()) {
    if (required) fail("{}: missing field \"{}\"", file.string(), field);
    return;
  }
  try {
    value = it->get<T>();
  } catch (const json::exception&) {
    fail("{}: field \"{}\" has the wrong type ({})", file.string(), field, it->dump());
  }
}

}  // namespace

void BertConfig::validate() const {
  auto positive = [](const char* field, int value) {
    if (value <= 0) fail("BERT config: {} must be positive, got {}", field, value);
  };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("intermediate_size", intermediate_size);
  positive("max_position_embeddings", max_position_embeddings);
  positive("type_vocab_size", type_vocab_size);
  if (hidden_size % num_attention_heads != 0) {
    fail("BERT config: hidden_size {} is not a multiple of num_attention_heads {}", hidden_size,
         num_attention_heads);
  }
  if (hidden_act != "gelu" && hidden_act != "gelu_new" && hidden_act != "gelu_pytorch_tanh" &&
      hidden_act != "relu") {
    fail("BERT config: hidden_act \"{}\" is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)",
         hidden_act);
  }
  for (float p : {hidden_dropout_prob, attention_probs_dropout_prob}) {
    if (p < 0 || p >= 1) fail("BERT config: dropout probability {} is not in [0, 1)", p);
  }
  if (pad_token_id < 0 || pad_token_id >= vocab_size) {
    fail("BERT config: pad_token_id {} is outside the vocabulary (size {})", pad_token_id, vocab_size);
  }
  if (layer_norm_eps <= 0) fail("BERT config: layer_norm_eps must be positive, got {}", layer_norm_eps);
}

void BertConfig::save(const std::filesystem::path& config_json) const {
  json config = {
      {"architectures", {"BertForMaskedLM"}},
      {"model_type", "bert"},
      {"vocab_size", vocab_size},
      {"hidden_size", hidden_size},
      {"num_hidden_layers", num_hidden_layers},
      {"num_attention_heads", num_attention_heads},
      {"intermediate_size", intermediate_size},
      {"hidden_act", hidden_act},
      {"hidden_dropout_prob", hidden_dropout_prob},
      {"attention_probs_dropout_prob", attention_probs_dropout_prob},
      {"max_position_embeddings", max_position_embeddings},
      {"type_vocab_size", type_vocab_size},
      {"initializer_range", initializer_range},
      {"layer_norm_eps", layer_norm_eps},
      {"pad_token_id", pad_token_id},
      {"position_embedding_type", "absolute"},
  };
  write_file_atomic(config_json, config.dump(2) + "\n");
}

BertConfig BertConfig::load(const std::filesystem::path& config_json) {
  json config;
  try {
    config = json::parse(read_file(config_json));
  } catch (const json::parse_error& e) {
    fail("{}: not valid JSON: {}", config_json.string(), e.what());
  }
  if (!config.is_object()) fail("{}: expected a JSON object", config_json.string());
  std::string model_type = "bert";
  read_field(config, config_json, "model_type", false, model_type);
  if (model_type != "bert") {
    fail("{}: model_type is \"{}\", doppel's text encoder reads \"bert\" models", config_json.string(),
         model_type);
  }
  std::string position_type = "absolute";
  read_field(config, config_json, "position_embedding_type", false, position_type);
  if (position_type != "absolute") {
    fail("{}: position_embedding_type \"{}\" is not supported (only \"absolute\")", config_json.string(),
         position_type);
  }
  BertConfig c;
  read_field(config, config_json, "vocab_size", true, c.vocab_size);
  read_field(config, config_json, "hidden_size", true, c.hidden_size);
  read_field(config, config_json, "num_hidden_layers", true, c.num_hidden_layers);
  read_field(config, config_json, "num_attention_heads", true, c.num_attention_heads);
  read_field(config, config_json, "intermediate_size", true, c.intermediate_size);
  read_field(config, config_json, "hidden_act", false, c.hidden_act);
  read_field(config, config_json, "hidden_dropout_prob", false, c.hidden_dropout_prob);
  read_field(config, config_json, "attention_probs_dropout_prob", false, c.attention_probs_dropout_prob);
  read_field(config, config_json, "max_position_embeddings", true, c.max_position_embeddings);
  read_field(config, config_json, "type_vocab_size", false, c.type_vocab_size);
  read_field(config, config_json, "initializer_range", false, c.initializer_range);
  read_field(config, config_json, "layer_norm_eps", false, c.layer_norm_eps);
  read_field(config, config_json, "pad_token_id", false, c.pad_token_id);
  try {
    c.validate();
  } catch (const Error& e) {
    fail("{}: {}", config_json.string(), e.what());
  }
  return c;
}

}  // namespace doppel
