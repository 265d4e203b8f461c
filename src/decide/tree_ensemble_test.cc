#include "decide/tree_ensemble.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "decide/decider.h"
#include "util/error.h"

namespace doppel {
namespace {

using ::testing::HasSubstr;

// One split on column 0 at 0.5 (missing goes left), leaves -1 and 2, base score 0.5 (margin 0).
std::string one_split_model(const std::string& split_column = "0",
                            const std::string& objective = "binary:logistic",
                            const std::string& left_children = "1, -1, -1",
                            const std::string& right_children = "2, -1, -1") {
  return R"({"learner": {"objective": {"name": ")" + objective +
         R"("}, "learner_model_param": {"base_score": "5E-1"},
    "gradient_booster": {"name": "gbtree", "model": {"trees": [{
      "left_children": [)" +
         left_children + R"(], "right_children": [)" + right_children + R"(],
      "split_indices": [)" +
         split_column + R"(, 0, 0], "split_conditions": [0.5, -1.0, 2.0],
      "default_left": [1, 0, 0], "split_type": [0, 0, 0]}]}}}})";
}

// The message of the Error that compiling `json` for 2 columns throws ("" when it compiles).
std::string compile_error(const std::string& json) {
  try {
    TreeEnsemble::from_xgboost_json(json, 2);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

float logistic(float margin) { return 1.0f / (1.0f + std::exp(-margin)); }

TEST(TreeEnsemble, WalksSplitsAsXgboostDefinesThem) {
  const auto ensemble = TreeEnsemble::from_xgboost_json(one_split_model(), 2);
  EXPECT_EQ(ensemble.num_trees(), 1u);
  EXPECT_EQ(ensemble.uses_leaf_masks(), LeafMasks::supported());
  // Left strictly below the threshold, right at and above it, missing the default way (left).
  // Over and over: 4 rows (one group of 4 with leaf masks), 18 (a group of 16, then a walk of 2).
  const std::vector<float> row_values = {0.2f, 9, 0.5f, 9, 0.7f, NAN, NAN, 0};
  const std::vector<float> expected = {logistic(-1), logistic(2), logistic(2), logistic(-1)};
  for (const size_t n : {size_t{4}, size_t{18}}) {
    std::vector<float> x;
    for (size_t i = 0; i < n; ++i)
      x.insert(x.end(), &row_values[i % 4 * 2], &row_values[i % 4 * 2 + 2]);
    std::vector<float> out(n);
    ensemble.predict(x.data(), n, out.data(), 1);
    for (size_t i = 0; i < n; ++i) EXPECT_FLOAT_EQ(out[i], expected[i % 4]) << "row " << i;
  }
}

// A comb-shaped tree of `leaves` leaves in XGBoost's JSON: split k reads column 0 at k + 1, its
// left child is a leaf, its right child the next split; a leaf's value is its node index / 128
// (exact in float and in 7 decimals, and small enough that the logistic tells every sum apart).
std::string comb_tree(int leaves) {
  std::string left, right, columns, thresholds, default_left;
  const auto add = [](std::string& list, const std::string& value) {
    list += (list.empty() ? "" : ", ") + value;
  };
  // Split k is node 2k, its left leaf node 2k + 1; the last node is the last leaf.
  const int nodes = 2 * leaves - 1;
  for (int n = 0; n < nodes; ++n) {
    const bool leaf = n % 2 == 1 || n == nodes - 1;
    add(left, leaf ? "-1" : std::to_string(n + 1));
    add(right, leaf ? "-1" : std::to_string(n + 2));
    add(columns, "0");
    char leaf_value[16];
    std::snprintf(leaf_value, sizeof leaf_value, "%.7f", n / 128.0);
    add(thresholds, leaf ? leaf_value : std::to_string(n / 2 + 1));
    add(default_left, "0");
  }
  return R"({"left_children": [)" + left + R"(], "right_children": [)" + right +
         R"(], "split_indices": [)" + columns + R"(], "split_conditions": [)" + thresholds +
         R"(], "default_left": [)" + default_left + "]}";
}

// A model of comb trees, one of each size in `leaves`, in that order.
std::string comb_model(const std::vector<int>& leaves) {
  std::string trees;
  for (const int n : leaves) trees += (trees.empty() ? "" : ", ") + comb_tree(n);
  return R"({"learner": {"objective": {"name": "binary:logistic"},
    "learner_model_param": {"base_score": "5E-1"}, "gradient_booster": {"name": "gbtree",
    "model": {"trees": [)" +
         trees + "]}}}}";
}

// The leaf a comb tree of `leaves` leaves gives value v: v reaches split k (k = 0, 1, ...) while
// v >= k + 1 and stops at the first split it falls below, whose left leaf is node 2k + 1, or at
// the last leaf, where a missing value goes too.
float comb_leaf(int leaves, float v) {
  const int last_leaf = 2 * leaves - 2;
  const int node = std::isnan(v) ? last_leaf : std::min(2 * static_cast<int>(v) + 1, last_leaf);
  return static_cast<float>(node) / 128;
}

// Rows of one column: 0, 0.5, 1, ... up to `leaves`, every seventh missing.
std::vector<float> comb_rows(int leaves) {
  std::vector<float> x;
  for (int i = 0; i < 2 * leaves; ++i) x.push_back(i % 7 == 6 ? NAN : i / 2.0f);
  return x;
}

// A tree of 64 leaves goes through the masks (one bit a leaf), one of 65 through the walk; both
// give each row its leaf, a missing value the default way (right, to the last leaf). Up to 32
// leaves the masks are 32 bits wide, from 33 on 64.
TEST(TreeEnsemble, TakesTheLeafMasksUpTo64Leaves) {
  for (const int leaves : {32, 33, 64, 65}) {
    const auto ensemble = TreeEnsemble::from_xgboost_json(comb_model({leaves}), 1);
    EXPECT_EQ(ensemble.uses_leaf_masks(), leaves <= 64 && LeafMasks::supported());
    const std::vector<float> x = comb_rows(leaves);
    std::vector<float> out(x.size());
    ensemble.predict(x.data(), x.size(), out.data(), 1);
    for (size_t i = 0; i < x.size(); ++i)
      EXPECT_FLOAT_EQ(out[i], logistic(comb_leaf(leaves, x[i]))) << leaves << " leaves, row " << i;
  }
}

// Trees of both mask widths in one model: each row gets every tree's leaf.
TEST(TreeEnsemble, ScoresNarrowAndWideTreesTogether) {
  const std::vector<int> trees = {40, 5, 64, 32, 33, 2};
  const auto ensemble = TreeEnsemble::from_xgboost_json(comb_model(trees), 1);
  EXPECT_EQ(ensemble.uses_leaf_masks(), LeafMasks::supported());
  const std::vector<float> x = comb_rows(64);
  std::vector<float> out(x.size());
  ensemble.predict(x.data(), x.size(), out.data(), 1);
  for (size_t i = 0; i < x.size(); ++i) {
    float margin = 0;  // the logit of the base score 0.5
    for (const int leaves : trees) margin += comb_leaf(leaves, x[i]);
    EXPECT_EQ(out[i], logistic(margin)) << "row " << i;
  }
}

TEST(TreeEnsemble, RejectsWhatItCannotWalk) {
  EXPECT_THROW(TreeEnsemble::from_xgboost_json("{not json", 2), Error);
  EXPECT_THROW(TreeEnsemble::from_xgboost_json(R"({"learner": {}})", 2), Error);
  EXPECT_THROW(TreeEnsemble::from_xgboost_json(one_split_model("0", "reg:squarederror"), 2), Error);
  // Node 1's left child is the root: a walk that never reaches a leaf.
  EXPECT_THAT(compile_error(one_split_model("0", "binary:logistic", "1, 0, -1", "2, 2, -1")),
              HasSubstr("deeper than"));
  EXPECT_THAT(compile_error(one_split_model("3")), HasSubstr("column 3 of 2"));
}

// Rows of 6 columns: the label follows columns 0 and 1, columns 2 and 3 are missing now and then,
// and column 4 is missing in most rows, so that trees learn default directions both ways.
struct Rows {
  std::vector<float> x;
  std::vector<uint8_t> y;
};

Rows rows(size_t n, uint32_t seed) {
  constexpr int kColumns = 6;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0, 1);
  Rows r;
  for (size_t i = 0; i < n; ++i) {
    float v[kColumns];
    for (float& value : v) value = u(rng);
    if (u(rng) < 0.2f) v[2] = NAN;
    if (u(rng) < 0.2f) v[3] = NAN;
    if (u(rng) < 0.7f) v[4] = NAN;
    r.x.insert(r.x.end(), v, v + kColumns);
    r.y.push_back(v[0] + 0.5f * v[1] + (std::isnan(v[4]) ? 0.2f : 0.0f) + 0.3f * u(rng) > 1.0f);
  }
  return r;
}

class TreeEnsembleOfDepth : public ::testing::TestWithParam<int> {};

// Depth 6 (the decider's) goes through the leaf masks, depth 10 has trees of more than 64 leaves
// and goes through the walk.
INSTANTIATE_TEST_SUITE_P(Depths, TreeEnsembleOfDepth, ::testing::Values(6, 10));

// The compiled trees give XGBoost's scores on trained deciders, one block of rows or many, on a
// thread or several, fresh from training and loaded from disk.
TEST_P(TreeEnsembleOfDepth, ScoresAsXgboostDoes) {
  const Rows train = rows(3000, 1), valid = rows(600, 2), test = rows(1001, 3);
  DeciderOptions options;
  options.xgboost.rounds = 60;
  options.xgboost.max_depth = GetParam();
  options.xgboost.parallel_trees = 4;
  options.calibrate = false;  // the raw scores: calibration could hide a difference
  options.threads = 2;
  Decider decider = Decider::train(train.x.data(), train.y, valid.x.data(), valid.y, 6, options);
  const auto dir = std::filesystem::temp_directory_path() /
                   ("doppel_tree_ensemble_test_" + std::to_string(::getpid()));
  const std::vector<std::string_view> names = {"a", "b", "c", "d", "e", "f"};
  decider.save(dir, names);
  Decider loaded = Decider::load(dir, names);
  std::filesystem::remove_all(dir);

  for (Decider* d : {&decider, &loaded}) {
    for (size_t n : {size_t{1}, size_t{63}, size_t{1001}}) {
      d->set_tree_predictor(TreePredictor::kXgboost);
      const auto expected = d->predict(test.x.data(), n);
      d->set_tree_predictor(TreePredictor::kCompiled);
      const auto compiled = d->predict(test.x.data(), n);
      ASSERT_EQ(compiled.size(), n);
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(compiled[i], expected[i]) << "row " << i;
    }
  }
}

}  // namespace
}  // namespace doppel
