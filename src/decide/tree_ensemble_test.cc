#include "decide/tree_ensemble.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
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
  // Left strictly below the threshold, right at and above it, missing the default way (left).
  const std::vector<float> x = {0.2f, 9, 0.5f, 9, 0.7f, NAN, NAN, 0};
  std::vector<float> out(4);
  ensemble.predict(x.data(), 4, out.data(), 1);
  EXPECT_FLOAT_EQ(out[0], logistic(-1));
  EXPECT_FLOAT_EQ(out[1], logistic(2));
  EXPECT_FLOAT_EQ(out[2], logistic(2));
  EXPECT_FLOAT_EQ(out[3], logistic(-1));
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

// The compiled trees give XGBoost's scores on trained deciders, one block of rows or many, on a
// thread or several, fresh from training and loaded from disk.
TEST(TreeEnsemble, ScoresAsXgboostDoes) {
  const Rows train = rows(3000, 1), valid = rows(600, 2), test = rows(1001, 3);
  DeciderOptions options;
  options.xgboost.rounds = 60;
  options.xgboost.max_depth = 6;
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
