// The torch-free half of text/neural_text_encoder.h: the model folder's files, the head's config
// and model_text(). The doppel binary links this; the encoder itself lives in the neural plugin.
#include "text/neural_text_encoder.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "text/normalize.h"
#include "util/error.h"
#include "util/files.h"
#include "util/json_file.h"

namespace doppel {

namespace fs = std::filesystem;

bool TextModelFiles::has_bert(const fs::path& dir) {
  return fs::exists(dir / kConfig) && fs::exists(dir / kWeights) && fs::exists(dir / kVocab);
}

bool TextModelFiles::has_head(const fs::path& dir) {
  return has_bert(dir) && fs::exists(dir / kEncoder) && fs::exists(dir / kHeadWeights);
}

bool NeuralTextEncoder::exists(const fs::path& dir) { return TextModelFiles::has_head(dir); }

void TokenCnnHeadConfig::validate(int num_hidden_layers) const {
  if (layers.empty()) fail("encoder head: layers is empty");
  std::set<int> seen;
  for (int layer : layers) {
    const int index = layer < 0 ? num_hidden_layers + 1 + layer : layer;
    if (index < 0 || index > num_hidden_layers) {
      fail("encoder head: layer {} does not exist in a {}-layer model", layer, num_hidden_layers);
    }
    if (!seen.insert(index).second) fail("encoder head: layer {} listed twice", layer);
  }
  if (bottleneck < 0) {
    fail("encoder head: bottleneck must be 0 (none) or positive, got {}", bottleneck);
  }
  if (channels <= 0) fail("encoder head: channels must be positive, got {}", channels);
  if (kernel_size <= 0 || kernel_size % 2 == 0) {
    fail("encoder head: kernel_size must be a positive odd number, got {}", kernel_size);
  }
  if (out_dim <= 0) fail("encoder head: out_dim must be positive, got {}", out_dim);
  if (max_length < 3) fail("encoder head: max_length must be at least 3, got {}", max_length);
}

void TokenCnnHeadConfig::save(const std::filesystem::path& encoder_json) const {
  nlohmann::json j = {{"format_version", kFormatVersion}, {"layers", layers},
                      {"bottleneck", bottleneck},         {"channels", channels},
                      {"kernel_size", kernel_size},       {"out_dim", out_dim},
                      {"max_length", max_length}};
  write_file_atomic(encoder_json, j.dump(2) + "\n");
}

TokenCnnHeadConfig TokenCnnHeadConfig::load(const std::filesystem::path& encoder_json) {
  const auto json = read_json_object(encoder_json);
  const JsonFields fields(json, encoder_json);
  const int version = fields.expect_format_version(kOldestFormatVersion, kFormatVersion);
  TokenCnnHeadConfig c;
  fields.read("layers", true, c.layers);
  c.bottleneck = 0;  // version 1 heads had none
  fields.read("bottleneck", version >= 2, c.bottleneck);
  fields.read("channels", true, c.channels);
  fields.read("kernel_size", true, c.kernel_size);
  fields.read("out_dim", true, c.out_dim);
  fields.read("max_length", true, c.max_length);
  return c;
}

TokenCnnHeadConfig default_head_for(const BertConfig& bert) {
  TokenCnnHeadConfig head;
  head.layers.clear();
  for (int layer = -std::min(4, bert.num_hidden_layers); layer <= -1; ++layer)
    head.layers.push_back(layer);
  head.max_length = std::min(head.max_length, bert.max_position_embeddings);
  return head;
}

std::string model_text(const Listing& listing) {
  std::string text = listing.title;
  const std::string title = normalize_text(listing.title);
  for (const std::string* extra : {&listing.brand, &listing.model_number}) {
    if (extra->empty()) continue;
    const std::string normalized = normalize_text(*extra);
    if (!normalized.empty() && title.find(normalized) == std::string::npos) {
      text += ' ';
      text += *extra;
    }
  }
  return text;
}

}  // namespace doppel
