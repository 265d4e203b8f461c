#include "text/bert_config.h"

#include <utility>

#include "nn/hf_config_fields.h"
#include "util/error.h"
#include "util/files.h"
#include "util/json_file.h"

namespace doppel {

void BertConfig::validate() const {
  nn::validate_encoder_fields("BERT", *this);
  auto positive = [](const char* field, int value) {
    if (value <= 0) fail("BERT config: {} must be positive, got {}", field, value);
  };
  positive("vocab_size", vocab_size);
  positive("max_position_embeddings", max_position_embeddings);
  positive("type_vocab_size", type_vocab_size);
  if (pad_token_id < 0 || pad_token_id >= vocab_size) {
    fail("BERT config: pad_token_id {} is outside the vocabulary (size {})", pad_token_id, vocab_size);
  }
}

void BertConfig::save(const std::filesystem::path& config_json) const {
  nlohmann::json config = {
      {"architectures", {"BertForMaskedLM"}},
      {"model_type", "bert"},
      {"vocab_size", vocab_size},
      {"max_position_embeddings", max_position_embeddings},
      {"type_vocab_size", type_vocab_size},
      {"pad_token_id", pad_token_id},
      {"position_embedding_type", "absolute"},
  };
  nn::write_encoder_fields(*this, config);
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
  nn::read_encoder_fields(fields, c);
  fields.read("max_position_embeddings", true, c.max_position_embeddings);
  fields.read("type_vocab_size", false, c.type_vocab_size);
  fields.read("pad_token_id", false, c.pad_token_id);
  return nn::validated(std::move(c), config_json);
}

}  // namespace doppel
