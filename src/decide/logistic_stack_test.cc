#include "decide/logistic_stack.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "util/error.h"

namespace doppel {
namespace {

double sigmoid(double z) { return 1 / (1 + std::exp(-z)); }

// n rows of two columns, (noise, c), scores s = sigmoid(u) and labels drawn with probability
// sigmoid(1.5 u + 2 c - 0.5): the stack should recover 1.5, 2 and -0.5.
struct Rows {
  std::vector<float> scores, x;
  std::vector<uint8_t> labels;
};

Rows drawn_rows(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0, 2);
  std::uniform_real_distribution<double> uniform(-1, 1);
  Rows rows;
  for (size_t i = 0; i < n; ++i) {
    const double u = normal(rng), c = uniform(rng);
    rows.scores.push_back(static_cast<float>(sigmoid(u)));
    rows.x.push_back(static_cast<float>(uniform(rng)));
    rows.x.push_back(static_cast<float>(c));
    rows.labels.push_back(std::bernoulli_distribution(sigmoid(1.5 * u + 2 * c - 0.5))(rng));
  }
  return rows;
}

TEST(LogisticStack, RecoversTheWeightsOfALogisticModel) {
  const Rows rows = drawn_rows(20000, 1);
  const auto stack = LogisticStack::fit(rows.scores, rows.x.data(), 2, {1}, rows.labels);
  ASSERT_EQ(stack.columns(), std::vector<int>{1});
  ASSERT_EQ(stack.weights().size(), 2u);
  EXPECT_NEAR(stack.weights()[0], 1.5, 0.1);
  EXPECT_NEAR(stack.weights()[1], 2.0, 0.15);
  EXPECT_NEAR(stack.bias(), -0.5, 0.1);

  std::vector<float> scores = {0.5f, 0.5f};
  const std::vector<float> x = {0, 1, 0, -1};
  stack.apply(scores, x.data(), 2);
  EXPECT_NEAR(scores[0], sigmoid(stack.weights()[1] + stack.bias()), 1e-6);
  EXPECT_GT(scores[0], scores[1]) << "a higher value of a column with a positive weight";
}

TEST(LogisticStack, SeparableRowsGiveFiniteWeights) {
  Rows rows;
  for (int i = 0; i < 200; ++i) {
    const float c = static_cast<float>(i % 2 ? 1 : -1) * (0.1f + 0.001f * i);
    rows.scores.push_back(0.5f);
    rows.x.push_back(c);
    rows.labels.push_back(c > 0);
  }
  const auto stack = LogisticStack::fit(rows.scores, rows.x.data(), 1, {0}, rows.labels);
  for (double w : stack.weights()) EXPECT_TRUE(std::isfinite(w));
  EXPECT_GT(stack.weights()[1], 1.0);
  std::vector<float> scores = {0.5f, 0.5f};
  const std::vector<float> x = {0.5f, -0.5f};
  stack.apply(scores, x.data(), 1);
  EXPECT_GT(scores[0], 0.5f);
  EXPECT_LT(scores[1], 0.5f);
}

TEST(LogisticStack, AMissingValueTakesTheColumnsMean) {
  Rows rows = drawn_rows(2000, 2);
  rows.x[1] = NAN;  // missing values do not enter the mean
  const auto stack = LogisticStack::fit(rows.scores, rows.x.data(), 2, {1}, rows.labels);
  double sum = 0;
  for (size_t i = 1; i < rows.labels.size(); ++i) sum += rows.x[i * 2 + 1];
  ASSERT_EQ(stack.fill().size(), 1u);
  EXPECT_NEAR(stack.fill()[0], sum / static_cast<double>(rows.labels.size() - 1), 1e-6);

  std::vector<float> missing = {0.3f}, filled = {0.3f};
  const std::vector<float> x_missing = {0, NAN};
  const std::vector<float> x_filled = {0, static_cast<float>(stack.fill()[0])};
  stack.apply(missing, x_missing.data(), 2);
  stack.apply(filled, x_filled.data(), 2);
  EXPECT_NEAR(missing[0], filled[0], 1e-6);
}

TEST(LogisticStack, AnEmptyStackLeavesScoresAlone) {
  std::vector<float> scores = {0.2f, 0.9f};
  const std::vector<float> x = {1, 2};
  LogisticStack().apply(scores, x.data(), 1);
  EXPECT_EQ(scores, (std::vector<float>{0.2f, 0.9f}));
}

TEST(LogisticStack, HideColumnsMakesJustThoseMissing) {
  const std::vector<float> x = {1, 2, 3, 4, 5, 6};
  const std::vector<int> columns = {0, 2};
  const auto hidden = hide_columns(x.data(), 2, 3, columns);
  ASSERT_EQ(hidden.size(), 6u);
  EXPECT_TRUE(std::isnan(hidden[0]) && std::isnan(hidden[2]) && std::isnan(hidden[3]) &&
              std::isnan(hidden[5]));
  EXPECT_EQ(hidden[1], 2);
  EXPECT_EQ(hidden[4], 5);
}

TEST(LogisticStack, BadInputsAreNamed) {
  const Rows rows = drawn_rows(100, 3);
  const auto fit = [&](std::vector<int> columns) {
    return LogisticStack::fit(rows.scores, rows.x.data(), 2, std::move(columns), rows.labels);
  };
  EXPECT_THROW(fit({2}), Error);
  EXPECT_THROW(fit({-1}), Error);
  EXPECT_THROW(fit({1, 1}), Error);
  const std::vector<uint8_t> one_class(rows.labels.size(), 1);
  EXPECT_THROW(LogisticStack::fit(rows.scores, rows.x.data(), 2, {1}, one_class), Error);
  EXPECT_THROW(
      LogisticStack::fit(std::span(rows.scores).first(10), rows.x.data(), 2, {1}, rows.labels),
      Error);
  EXPECT_THROW(LogisticStack::from_parts({1}, {1.0}, 0, {0.0}), Error);  // the score's weight
  EXPECT_THROW(LogisticStack::from_parts({1}, {1.0, 2.0}, 0, {}), Error);
  EXPECT_THROW(LogisticStack::from_parts({1}, {1.0, NAN}, 0, {0.0}), Error);
  EXPECT_NO_THROW(LogisticStack::from_parts({1}, {1.0, 2.0}, 0, {0.0}));
}

}  // namespace
}  // namespace doppel
