#include "text/bert_config.h"

#include "util/error.h"
#include "util/files.h"
#include "util/json_file.h"

namespace doppel {


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
  nlohmann::json config = {
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
  const auto config = read_json_object(config_json);
  const JsonFields fields(config, config_json);
  std::string model_type = "bert";
  fields.read("model_type", false, model_type);
  if (model_type != "bert") {
    fail("{}: model_type is \"{}\", doppel's text encoder reads \"bert\" models", config_json.string(),
         model_type);
  }
  std::string position_type = "absolute";
  fields.read("position_embedding_type", false, position_type);
  if (position_type != "absolute") {
    fail("{}: position_embedding_type \"{}\" is not supported (only \"absolute\")", config_json.string(),
         position_type);
  }
  BertConfig c;
  fields.read("vocab_size", true, c.vocab_size);
  fields.read("hidden_size", true, c.hidden_size);
  fields.read("num_hidden_layers", true, c.num_hidden_layers);
  fields.read("num_attention_heads", true, c.num_attention_heads);
  fields.read("intermediate_size", true, c.intermediate_size);
  fields.read("hidden_act", false, c.hidden_act);
  fields.read("hidden_dropout_prob", false, c.hidden_dropout_prob);
  fields.read("attention_probs_dropout_prob", false, c.attention_probs_dropout_prob);
  fields.read("max_position_embeddings", true, c.max_position_embeddings);
  fields.read("type_vocab_size", false, c.type_vocab_size);
  fields.read("initializer_range", false, c.initializer_range);
  fields.read("layer_norm_eps", false, c.layer_norm_eps);
  fields.read("pad_token_id", false, c.pad_token_id);
  try {
    c.validate();
  } catch (const Error& e) {
    fail("{}: {}", config_json.string(), e.what());
  }
  return c;
}

}  // namespace doppel
