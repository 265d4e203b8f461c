#include "eval/paired_bootstrap.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "util/expect_error.h"

namespace doppel {
namespace {

using Runs = std::vector<std::vector<uint8_t>>;

// 4 matches among 8 pairs; baseline finds 2 with no false match: F1 = 2·2/(2 + 4) = 2/3;
// candidate finds 3 with one false match: F1 = 2·3/(4 + 4) = 3/4.
const std::vector<uint8_t> kLabels = {1, 1, 1, 1, 0, 0, 0, 0};
const Runs kBaseline = {{1, 1, 0, 0, 0, 0, 0, 0}};
const Runs kCandidate = {{1, 1, 1, 0, 1, 0, 0, 0}};

TEST(PairedBootstrap, F1OfThePairsAsTheyAreByHand) {
  const auto b = paired_bootstrap_f1(kLabels, kBaseline, kCandidate, {.resamples = 200});
  EXPECT_DOUBLE_EQ(b.baseline_f1, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(b.candidate_f1, 0.75);
  EXPECT_DOUBLE_EQ(b.difference, 0.75 - 2.0 / 3.0);
  EXPECT_LE(b.low, b.high);
  EXPECT_NEAR(b.candidate_ahead + b.candidate_behind, 1.0, 0.2);  // ties only on rare draws
}

TEST(PairedBootstrap, ASideOfSeveralRunsScoresTheirMeanF1) {
  // The second baseline run finds all 4 matches and 4 false ones: F1 = 8/(8 + 4) = 2/3 too; a
  // run that finds every match alone scores 1.
  const Runs baseline = {kBaseline[0], {1, 1, 1, 1, 1, 1, 1, 1}};
  const Runs candidate = {kCandidate[0], {1, 1, 1, 1, 0, 0, 0, 0}};
  const auto b = paired_bootstrap_f1(kLabels, baseline, candidate, {.resamples = 10});
  EXPECT_DOUBLE_EQ(b.baseline_f1, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(b.candidate_f1, (0.75 + 1.0) / 2);
}

TEST(PairedBootstrap, TheSameDecisionsOnBothSidesNeverDiffer) {
  const auto b = paired_bootstrap_f1(kLabels, kCandidate, kCandidate, {.resamples = 500});
  EXPECT_EQ(b.difference, 0.0);
  EXPECT_EQ(b.low, 0.0);
  EXPECT_EQ(b.high, 0.0);
  EXPECT_EQ(b.candidate_ahead, 0.0);
  EXPECT_EQ(b.candidate_behind, 0.0);
}

// 2,000 pairs, 200 matches; the baseline misses `baseline_misses` of them, the candidate
// `candidate_misses`, and each accepts 10 non-matches (the same ones).
struct Split {
  std::vector<uint8_t> labels;
  Runs baseline, candidate;
};
Split test_split(int baseline_misses, int candidate_misses) {
  Split s;
  s.labels.assign(2000, 0);
  std::vector<uint8_t> baseline(2000, 0), candidate(2000, 0);
  for (int i = 0; i < 200; ++i) {
    s.labels[size_t(i) * 10] = 1;
    baseline[size_t(i) * 10] = i >= baseline_misses;
    candidate[size_t(i) * 10] = i >= candidate_misses;
  }
  for (int i = 0; i < 10; ++i) baseline[size_t(i) * 10 + 1] = candidate[size_t(i) * 10 + 1] = 1;
  s.baseline = {baseline};
  s.candidate = {candidate};
  return s;
}

TEST(PairedBootstrap, AClearGainLiesOutsideTheNoise) {
  const Split s = test_split(/*baseline_misses=*/40, /*candidate_misses=*/10);
  const auto b = paired_bootstrap_f1(s.labels, s.baseline, s.candidate, {.resamples = 2000});
  EXPECT_GT(b.difference, 0.05);
  EXPECT_GT(b.low, 0.0);
  EXPECT_GE(b.candidate_ahead, 0.999);
}

TEST(PairedBootstrap, OneMatchMoreIsInsideTheNoise) {
  const Split s = test_split(/*baseline_misses=*/21, /*candidate_misses=*/20);
  const auto b = paired_bootstrap_f1(s.labels, s.baseline, s.candidate, {.resamples = 2000});
  EXPECT_GT(b.difference, 0.0);
  EXPECT_LE(b.low, 0.0);  // a draw without the one pair that differs has no difference
  EXPECT_GT(b.high, b.difference);
  // That pair is drawn at least once with probability 1 - (1 - 1/n)^n ≈ 0.63.
  EXPECT_NEAR(b.candidate_ahead, 0.63, 0.04);
  EXPECT_EQ(b.candidate_behind, 0.0);
}

TEST(PairedBootstrap, TheIntervalWidensWithTheLevelAndTheSeedFixesTheDraws) {
  const Split s = test_split(30, 25);
  const auto at95 = paired_bootstrap_f1(s.labels, s.baseline, s.candidate, {.resamples = 1000});
  const auto at50 =
      paired_bootstrap_f1(s.labels, s.baseline, s.candidate, {.resamples = 1000, .level = 0.5});
  EXPECT_LT(at95.low, at50.low);
  EXPECT_GT(at95.high, at50.high);
  const auto again = paired_bootstrap_f1(s.labels, s.baseline, s.candidate, {.resamples = 1000});
  EXPECT_EQ(again.low, at95.low);
  EXPECT_EQ(again.high, at95.high);
  const auto other =
      paired_bootstrap_f1(s.labels, s.baseline, s.candidate, {.resamples = 1000, .seed = 7});
  EXPECT_NE(other.candidate_ahead, at95.candidate_ahead);
}

TEST(PairedBootstrap, RejectsInputsItCannotCompare) {
  const Runs none;
  expect_error([&] { paired_bootstrap_f1(kLabels, none, kCandidate); }, {"baseline has no run"});
  const Runs short_run = {{1, 0}};
  expect_error([&] { paired_bootstrap_f1(kLabels, kBaseline, short_run); },
               {"candidate run 1 has 2 decisions for 8 pairs"});
  expect_error([&] { paired_bootstrap_f1({}, none, none); }, {"no pairs"});
  expect_error([&] { paired_bootstrap_f1(kLabels, kBaseline, kCandidate, {.resamples = 0}); },
               {"resamples must be at least 1"});
  expect_error([&] { paired_bootstrap_f1(kLabels, kBaseline, kCandidate, {.level = 1.0}); },
               {"level must be inside (0, 1)"});
}

}  // namespace
}  // namespace doppel
