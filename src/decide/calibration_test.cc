// Tests of the isotonic calibration: pool-adjacent-violators on hand-checked inputs, monotone
// output, interpolation between knots, and rejected knots.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "decide/calibration.h"
#include "util/error.h"

namespace doppel {
namespace {

TEST(IsotonicCalibration, PoolsViolatorsIntoIncreasingBlocks) {
  // Sorted by score the labels are 0 1 0 1 1: the middle (1, 0) pair violates and pools to 0.5.
  const std::vector<float> scores = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f};
  const std::vector<uint8_t> labels = {0, 1, 0, 1, 1};
  const auto c = IsotonicCalibration::fit(scores, labels);
  ASSERT_EQ(c.knot_scores().size(), 3u);  // {0.1} {0.2, 0.3} {0.4, 0.5}
  EXPECT_FLOAT_EQ(c.knot_probabilities()[0], 0.0f);
  EXPECT_FLOAT_EQ(c.knot_probabilities()[1], 0.5f);
  EXPECT_FLOAT_EQ(c.knot_probabilities()[2], 1.0f);
  EXPECT_FLOAT_EQ(c.knot_scores()[1], 0.25f);
  EXPECT_FLOAT_EQ(c.apply(0.0f), 0.0f);       // flat below the first knot
  EXPECT_FLOAT_EQ(c.apply(0.9f), 1.0f);       // and above the last
  EXPECT_NEAR(c.apply(0.175f), 0.25f, 1e-6);  // halfway between knots 0 and 1
}

TEST(IsotonicCalibration, OutputIsMonotoneOnNoisyData) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<float> scores;
  std::vector<uint8_t> labels;
  for (int i = 0; i < 2000; ++i) {
    const float s = u(rng);
    scores.push_back(s);
    labels.push_back(u(rng) < s * s);  // true probability s², not s
  }
  const auto c = IsotonicCalibration::fit(scores, labels);
  float previous = -1;
  for (float s = 0; s <= 1.0f; s += 0.01f) {
    const float p = c.apply(s);
    EXPECT_GE(p, previous);
    previous = p;
  }
  EXPECT_NEAR(c.apply(0.5f), 0.25f, 0.08);  // it learned s², not the identity
}

TEST(IsotonicCalibration, RejectsBadKnotsAndBadInput) {
  EXPECT_TRUE(IsotonicCalibration::from_knots({}, {}).identity());
  EXPECT_THROW(IsotonicCalibration::from_knots({0.2f, 0.1f}, {0.1f, 0.2f}), Error);
  EXPECT_THROW(IsotonicCalibration::from_knots({0.1f, 0.2f}, {0.3f, 0.2f}), Error);
  EXPECT_THROW(IsotonicCalibration::from_knots({0.1f}, {1.5f}), Error);
  EXPECT_THROW(IsotonicCalibration::from_knots({0.1f}, {}), Error);
  EXPECT_THROW(IsotonicCalibration::fit({}, {}), Error);
  const std::vector<float> one = {0.5f};
  const std::vector<uint8_t> two = {0, 1};
  EXPECT_THROW(IsotonicCalibration::fit(one, two), Error);
}

}  // namespace
}  // namespace doppel
