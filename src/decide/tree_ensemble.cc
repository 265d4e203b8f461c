#include "decide/tree_ensemble.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>

#include "util/error.h"

namespace doppel {
namespace {

// Rows that walk one tree together: enough independent walks to keep the CPU busy, few enough
// for their rows and positions to stay in the first-level cache.
constexpr size_t kBlock = 64;

// The deepest tree compiled (its depth is kept in a byte), which also ends the walk of a damaged
// tree whose children lead back up.
constexpr int kMaxDepth = 64;

// Levels from the root (node 0) of a tree, given by its child arrays (-1 = none), to its deepest
// leaf.
int tree_depth(const std::vector<int>& left, const std::vector<int>& right) {
  int depth = 0;
  std::vector<std::pair<int, int>> stack = {{0, 0}};
  while (!stack.empty()) {
    const auto [node, level] = stack.back();
    stack.pop_back();
    if (level > kMaxDepth) fail("xgboost model: a tree deeper than {} levels", kMaxDepth);
    depth = std::max(depth, level);
    if (left[node] == -1) continue;
    stack.emplace_back(left[node], level + 1);
    stack.emplace_back(right[node], level + 1);
  }
  return depth;
}

}  // namespace

TreeEnsemble TreeEnsemble::from_xgboost_json(std::string_view json, int num_features) {
  if (num_features <= 0 || num_features > std::numeric_limits<uint16_t>::max())
    fail("xgboost model: cannot compile a model of {} features", num_features);
  TreeEnsemble ensemble;
  ensemble.num_features_ = num_features;
  try {
    const auto model = nlohmann::json::parse(json);
    const auto& learner = model.at("learner");
    const auto objective = learner.at("objective").at("name").get<std::string>();
    if (objective != "binary:logistic")
      fail("xgboost model: objective '{}', expected binary:logistic", objective);
    const auto& booster = learner.at("gradient_booster");
    if (booster.at("name").get<std::string>() != "gbtree")
      fail("xgboost model: booster '{}', expected gbtree", booster.at("name").get<std::string>());
    // XGBoost keeps the base score as a probability; its walk starts from the logit of it.
    const float base_score =
        std::stof(learner.at("learner_model_param").at("base_score").get<std::string>());
    ensemble.base_margin_ = -std::log(1.0f / base_score - 1.0f);

    std::vector<XgboostTreeArrays> arrays;
    for (const auto& tree : booster.at("model").at("trees")) {
      const auto& [left, right, features, default_left, thresholds] = arrays.emplace_back(
          XgboostTreeArrays{tree.at("left_children").get<std::vector<int>>(),
                            tree.at("right_children").get<std::vector<int>>(),
                            tree.at("split_indices").get<std::vector<int>>(),
                            tree.at("default_left").get<std::vector<int>>(),
                            tree.at("split_conditions").get<std::vector<float>>()});
      const auto split_types = tree.value("split_type", std::vector<int>(left.size(), 0));
      const size_t n = left.size();
      if (n == 0 || right.size() != n || features.size() != n || thresholds.size() != n ||
          default_left.size() != n || split_types.size() != n)
        fail("xgboost model: tree {} has node arrays of different lengths", ensemble.num_trees());
      const auto base = static_cast<uint32_t>(ensemble.nodes_.size());
      for (size_t i = 0; i < n; ++i) {
        Node node{};
        const auto self = base + static_cast<uint32_t>(i);
        node.threshold = thresholds[i];  // a leaf's value
        if (left[i] == -1) {
          node.child[0] = node.child[1] = self;
        } else {
          if (split_types[i] != 0)
            fail("xgboost model: tree {} has a categorical split", ensemble.num_trees());
          if (left[i] < 0 || right[i] < 0 || static_cast<size_t>(left[i]) >= n ||
              static_cast<size_t>(right[i]) >= n)
            fail("xgboost model: tree {} has a child outside the tree", ensemble.num_trees());
          if (features[i] < 0 || features[i] >= num_features)
            fail("xgboost model: tree {} splits on column {} of {}", ensemble.num_trees(),
                 features[i], num_features);
          node.child[0] = base + static_cast<uint32_t>(left[i]);
          node.child[1] = base + static_cast<uint32_t>(right[i]);
          node.feature = static_cast<uint16_t>(features[i]);
          node.missing_to = default_left[i] ? 0 : 1;
        }
        ensemble.nodes_.push_back(node);
      }
      ensemble.trees_.push_back({base, static_cast<uint8_t>(tree_depth(left, right))});
    }
    if (LeafMasks::supported() && LeafMasks::fits(arrays))
      ensemble.leaf_masks_ = std::make_shared<const LeafMasks>(arrays, num_features);
  } catch (const nlohmann::json::exception& e) {
    fail("xgboost model: unexpected JSON: {}", e.what());
  } catch (const std::logic_error& e) {  // std::stof of a base score that is no number
    fail("xgboost model: unexpected base score: {}", e.what());
  }
  return ensemble;
}

void TreeEnsemble::walk_trees(const float* x, size_t rows, float* margin) const {
  uint32_t at[kBlock];
  for (const Tree& tree : trees_) {
    std::fill_n(at, rows, tree.root);
    for (int level = 0; level < tree.depth; ++level) {
      for (size_t i = 0; i < rows; ++i) {
        const Node& node = nodes_[at[i]];
        const float v = x[i * num_features_ + node.feature];
        // Branch-free, as which rows go where is anyone's guess: v >= threshold is false for a
        // missing value, which then goes where the node says.
        const unsigned side = (v >= node.threshold) | (node.missing_to & std::isnan(v));
        at[i] = node.child[side];
      }
    }
    for (size_t i = 0; i < rows; ++i) margin[i] += nodes_[at[i]].threshold;
  }
}

void TreeEnsemble::predict(const float* x, size_t n, float* out, int threads) const {
  const size_t blocks = (n + kBlock - 1) / kBlock;
  const int team = threads > 0 ? threads : omp_get_max_threads();
  // A team costs more than the few rows of one online match.
#pragma omp parallel num_threads(team) if (team > 1 && blocks >= 4)
  {
    // Kept by each thread between calls: an online match scores a few rows per call.
    thread_local LeafMasks::Scratch scratch;
#pragma omp for schedule(static)
    for (size_t b = 0; b < blocks; ++b) {
      const size_t begin = b * kBlock;
      const size_t rows = std::min(kBlock, n - begin);
      float* margin = out + begin;
      std::fill_n(margin, rows, base_margin_);
      size_t done = 0;
      while (leaf_masks_ && rows - done >= LeafMasks::kFewestRows) {
        const size_t group = std::min(LeafMasks::kRows, rows - done);
        leaf_masks_->add_trees(x + (begin + done) * num_features_, group, margin + done, scratch);
        done += group;
      }
      if (done < rows) walk_trees(x + (begin + done) * num_features_, rows - done, margin + done);
      for (size_t i = 0; i < rows; ++i) margin[i] = 1.0f / (1.0f + std::exp(-margin[i]));
    }
  }
}

}  // namespace doppel
