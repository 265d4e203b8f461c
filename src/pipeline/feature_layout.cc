#include "pipeline/feature_layout.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "decide/pair_features.h"
#include "util/error.h"

namespace doppel {
namespace {

void append_block(std::vector<std::string>& names, std::string_view modality, int dim) {
  for (const char* kind : {"absdiff", "product"})
    for (int i = 0; i < dim; ++i) names.push_back(fmt::format("{}_{}_{}", modality, kind, i));
}

}  // namespace

int FeatureLayout::width() const { return static_cast<int>(names().size()); }

std::vector<std::string> FeatureLayout::names() const {
  std::vector<std::string> names;
  if (pair) {
    for (std::string_view name : pair_feature_names()) names.emplace_back(name);
  } else if (text) {
    names.emplace_back("vector_cosine");
  }
  if (classical) names.emplace_back("classical_cosine");
  if (image) {
    names.emplace_back("image_cosine");
    names.emplace_back("images_present");
  }
  if (blocks && text) append_block(names, "text", text_dim);
  if (blocks && image) append_block(names, "image", image_dim);
  return names;
}

void FeatureLayout::validate() const {
  if (!pair && !text && !classical && !image)
    fail("decider features: choose at least one of pair, text, classical, image");
  if (pair && !text) fail("decider features: pair features include the text cosine (text)");
  if (blocks && !text && !image) fail("decider features: blocks need text or image");
  if (blocks && text && text_dim <= 0)
    fail("decider features: text blocks need the text vectors' dimension (embed the catalog)");
  if (blocks && image && image_dim <= 0)
    fail("decider features: image blocks need image vectors (train an image encoder and embed)");
}

FeatureLayout FeatureLayout::from_names(const std::vector<std::string>& names,
                                        std::string_view where) {
  FeatureLayout layout;
  const auto has = [&names](std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  const auto count_prefix = [&names](std::string_view prefix) {
    return static_cast<int>(std::count_if(names.begin(), names.end(), [&](const std::string& n) {
      return n.starts_with(prefix);
    }));
  };
  layout.pair = has(pair_feature_names()[1]);
  layout.image = has("image_cosine");
  layout.text = has("vector_cosine");
  layout.classical = has("classical_cosine");
  layout.text_dim = count_prefix("text_absdiff_");
  layout.image_dim = count_prefix("image_absdiff_");
  layout.blocks = layout.text_dim > 0 || layout.image_dim > 0;
  if (layout.names() != names) {
    fail("{}: the decider's {} features are not a layout this build computes (first: '{}'); "
         "retrain it with `doppel train decider`",
         where, names.size(), names.empty() ? "(none)" : names.front());
  }
  return layout;
}

FeatureLayout FeatureLayout::parse(std::string_view groups) {
  FeatureLayout layout;
  layout.pair = layout.text = false;
  size_t start = 0;
  while (start <= groups.size()) {
    size_t end = groups.find(',', start);
    if (end == std::string_view::npos) end = groups.size();
    const std::string_view group = groups.substr(start, end - start);
    if (group == "pair") {
      layout.pair = true;
    } else if (group == "text") {
      layout.text = true;
    } else if (group == "classical") {
      layout.classical = true;
    } else if (group == "image") {
      layout.image = true;
    } else if (group == "blocks") {
      layout.blocks = true;
    } else {
      fail("--features: unknown group '{}' (pair, text, classical, image, blocks)", group);
    }
    start = end + 1;
  }
  layout.text = layout.text || layout.pair;  // the pair features hold the text cosine
  return layout;
}

std::string FeatureLayout::groups() const {
  std::vector<std::string_view> parts;
  if (pair) parts.push_back("pair");
  if (text) parts.push_back("text");
  if (classical) parts.push_back("classical");
  if (image) parts.push_back("image");
  if (blocks) parts.push_back("blocks");
  return fmt::format("{}", fmt::join(parts, ","));
}

}  // namespace doppel
