#include "decide/decider.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include <unistd.h>

#include "eval/metrics.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {
namespace {

constexpr int kFeatures = 3;

// y = x0 > 0.5, with 5% of labels flipped; x1 is noise; x2 is NaN (missing) for a third of rows.
struct ToyData {
  std::vector<float> x;
  std::vector<uint8_t> y;
};

ToyData toy(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0, 1);
  ToyData d;
  for (size_t i = 0; i < n; ++i) {
    const float x0 = u(rng);
    d.x.push_back(x0);
    d.x.push_back(u(rng));
    d.x.push_back(i % 3 == 0 ? NAN : u(rng));
    bool label = x0 > 0.5f;
    if (u(rng) < 0.05f) label = !label;
    d.y.push_back(label);
  }
  return d;
}

DeciderOptions fast_options() {
  DeciderOptions o;
  o.rounds = 60;
  o.eta = 0.2f;
  o.max_depth = 3;
  o.threads = 1;
  o.early_stopping_rounds = 10;
  return o;
}

const std::vector<std::string_view> kNames = {"x0", "noise", "sometimes_missing"};

std::string fmt_model(int k) { return "model_" + std::to_string(k) + ".ubj"; }

std::filesystem::path temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("doppel_decider_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

class DeciderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    train_ = toy(1500, 1);
    valid_ = toy(500, 2);
    test_ = toy(1000, 3);
    decider_ = std::make_unique<Decider>(Decider::train(train_.x.data(), train_.y, valid_.x.data(),
                                                        valid_.y, kFeatures, fast_options()));
  }
  static void TearDownTestSuite() { decider_.reset(); }
  static ToyData train_, valid_, test_;
  static std::unique_ptr<Decider> decider_;
};
ToyData DeciderTest::train_, DeciderTest::valid_, DeciderTest::test_;
std::unique_ptr<Decider> DeciderTest::decider_;

TEST_F(DeciderTest, LearnsToyProblemOnHeldOutData) {
  const auto scores = decider_->predict(test_.x.data(), test_.y.size());
  ASSERT_EQ(scores.size(), test_.y.size());
  for (float s : scores) {
    EXPECT_GE(s, 0.0f);
    EXPECT_LE(s, 1.0f);
  }
  const auto m = binary_metrics(scores, test_.y, decider_->threshold());
  EXPECT_GT(m.f1, 0.9);
  EXPECT_GT(decider_->threshold(), 0.0f);
  EXPECT_LT(decider_->threshold(), 1.0f);
  EXPECT_EQ(decider_->num_features(), kFeatures);
  EXPECT_LT(decider_->best_iteration(), fast_options().rounds);
}

TEST_F(DeciderTest, ConfidenceIsCalibratedOnHeldOutData) {
  // Among test pairs given confidence in a bin, the share of matches is about the bin's value
  // (the map was fitted on the valid split, the test split is fresh).
  const auto scores = decider_->predict(test_.x.data(), test_.y.size());
  double expected = 0, observed = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    expected += scores[i];
    observed += test_.y[i];
  }
  EXPECT_NEAR(expected / scores.size(), observed / scores.size(), 0.05);
}

TEST_F(DeciderTest, TargetPrecisionTradesRecallForPrecision) {
  DeciderOptions strict = fast_options();
  strict.target_precision = 0.99;
  const auto precise = Decider::train(train_.x.data(), train_.y, valid_.x.data(), valid_.y,
                                      kFeatures, strict);
  const auto valid_scores = precise.predict(valid_.x.data(), valid_.y.size());
  const auto m = binary_metrics(valid_scores, valid_.y, precise.threshold());
  EXPECT_GE(m.precision, 0.99);
  EXPECT_GE(precise.threshold(), decider_->threshold());
  strict.target_precision = 1.5;
  EXPECT_THROW(strict.validate(), Error);
}

TEST_F(DeciderTest, SaveLoadRoundTripPredictsIdentically) {
  const auto dir = temp_dir("roundtrip");
  decider_->save(dir, kNames);
  const Decider loaded = Decider::load(dir, kNames);
  EXPECT_EQ(loaded.threshold(), decider_->threshold());
  EXPECT_EQ(loaded.num_features(), kFeatures);
  EXPECT_EQ(loaded.best_iteration(), decider_->best_iteration());
  EXPECT_EQ(loaded.predict(test_.x.data(), test_.y.size()),
            decider_->predict(test_.x.data(), test_.y.size()));
  std::filesystem::remove_all(dir);
}

TEST_F(DeciderTest, LoadWithOtherFeatureListFails) {
  const auto dir = temp_dir("names");
  decider_->save(dir, kNames);
  const std::vector<std::string_view> renamed = {"x0", "other", "sometimes_missing"};
  try {
    Decider::load(dir, renamed);
    FAIL() << "expected doppel::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("feature 1 is 'noise'"), std::string::npos) << e.what();
  }
  const std::vector<std::string_view> longer = {"x0", "noise", "sometimes_missing", "new"};
  EXPECT_THROW(Decider::load(dir, longer), Error);
  std::filesystem::remove_all(dir);
}

TEST_F(DeciderTest, TruncatedOrDamagedFilesFail) {
  const auto dir = temp_dir("truncated");
  decider_->save(dir, kNames);
  const auto model = dir / "model_0.ubj";
  std::filesystem::resize_file(model, std::filesystem::file_size(model) / 2);
  EXPECT_THROW(Decider::load(dir, kNames), Error);
  // The same truncation with a matching size in decider.json: XGBoost's own parser must reject it.
  {
    auto meta = nlohmann::json::parse(read_file(dir / "decider.json"));
    meta["models"][0]["bytes"] = std::filesystem::file_size(model);
    std::ofstream(dir / "decider.json") << meta.dump();
  }
  EXPECT_THROW(Decider::load(dir, kNames), Error);
  std::ofstream(dir / "decider.json") << "{\"format\": \"doppel-decider\", \"version\": 99}";
  try {
    Decider::load(dir, kNames);
    FAIL() << "expected doppel::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("version 99"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
  EXPECT_THROW(Decider::load(dir, kNames), Error);
}

TEST(Decider, EmptyOrSingleClassSplitsFail) {
  const auto d = toy(100, 4);
  const std::vector<uint8_t> all_ones(100, 1);
  EXPECT_THROW(Decider::train(d.x.data(), all_ones, d.x.data(), d.y, kFeatures, fast_options()),
               Error);
  EXPECT_THROW(Decider::train(d.x.data(), d.y, d.x.data(), {}, kFeatures, fast_options()), Error);
  DeciderOptions bad = fast_options();
  bad.eta = 0;
  EXPECT_THROW(Decider::train(d.x.data(), d.y, d.x.data(), d.y, kFeatures, bad), Error);
}

// ---------------------------------------------------------------------------------------------
// Cross-fitted ensembles.

TEST(StratifiedFolds, BalancedPerClassAndDeterministic) {
  const auto d = toy(1003, 5);
  const int folds = 5;
  const auto fold_of = stratified_folds(d.y, folds, 42);
  ASSERT_EQ(fold_of.size(), d.y.size());
  size_t positives = 0;
  for (uint8_t l : d.y) positives += l;
  const size_t negatives = d.y.size() - positives;
  std::vector<size_t> fold_pos(folds), fold_neg(folds);
  for (size_t i = 0; i < fold_of.size(); ++i) {
    ASSERT_GE(fold_of[i], 0);
    ASSERT_LT(fold_of[i], folds);
    (d.y[i] ? fold_pos : fold_neg)[fold_of[i]]++;
  }
  for (int k = 0; k < folds; ++k) {
    EXPECT_GE(fold_pos[k], positives / folds) << k;
    EXPECT_LE(fold_pos[k], positives / folds + 1) << k;
    EXPECT_GE(fold_neg[k], negatives / folds) << k;
    EXPECT_LE(fold_neg[k], negatives / folds + 1) << k;
  }
  EXPECT_EQ(stratified_folds(d.y, folds, 42), fold_of);
  EXPECT_NE(stratified_folds(d.y, folds, 43), fold_of);
}

class CrossFittedTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    labelled_ = toy(2000, 11);
    test_ = toy(1000, 12);
    DeciderOptions options = fast_options();
    options.folds = 5;
    decider_ = std::make_unique<Decider>(
        Decider::train_cross_fitted(labelled_.x.data(), labelled_.y, kFeatures, options, &oof_));
  }
  static void TearDownTestSuite() { decider_.reset(); }
  static ToyData labelled_, test_;
  static std::vector<float> oof_;
  static std::unique_ptr<Decider> decider_;
};
ToyData CrossFittedTest::labelled_, CrossFittedTest::test_;
std::vector<float> CrossFittedTest::oof_;
std::unique_ptr<Decider> CrossFittedTest::decider_;

TEST_F(CrossFittedTest, LearnsToyProblemOnHeldOutData) {
  EXPECT_EQ(decider_->num_models(), 5);
  const auto scores = decider_->predict(test_.x.data(), test_.y.size());
  ASSERT_EQ(scores.size(), test_.y.size());
  for (float s : scores) {
    EXPECT_GE(s, 0.0f);
    EXPECT_LE(s, 1.0f);
  }
  EXPECT_GT(binary_metrics(scores, test_.y, decider_->threshold()).f1, 0.9);
  // Every labelled pair got an out-of-fold score, and the threshold is the best cut of them.
  ASSERT_EQ(oof_.size(), labelled_.y.size());
  for (float s : oof_) ASSERT_TRUE(s >= 0.0f && s <= 1.0f) << s;
  EXPECT_EQ(decider_->threshold(), best_f1_threshold(oof_, labelled_.y));
  EXPECT_GT(binary_metrics(oof_, labelled_.y, decider_->threshold()).f1, 0.9);
  EXPECT_LT(decider_->best_iteration(), fast_options().rounds);
}

TEST_F(CrossFittedTest, SameSeedGivesIdenticalPredictions) {
  DeciderOptions options = fast_options();
  options.folds = 5;
  std::vector<float> oof;
  const Decider again =
      Decider::train_cross_fitted(labelled_.x.data(), labelled_.y, kFeatures, options, &oof);
  EXPECT_EQ(oof, oof_);
  EXPECT_EQ(again.threshold(), decider_->threshold());
  EXPECT_EQ(again.predict(test_.x.data(), test_.y.size()),
            decider_->predict(test_.x.data(), test_.y.size()));
}

TEST_F(CrossFittedTest, SaveLoadRoundTripPredictsIdentically) {
  const auto dir = temp_dir("cv_roundtrip");
  decider_->save(dir, kNames);
  for (int k = 0; k < 5; ++k) EXPECT_TRUE(std::filesystem::exists(dir / fmt_model(k))) << k;
  const auto meta = nlohmann::json::parse(read_file(dir / "decider.json"));
  EXPECT_EQ(meta.at("version"), 3);
  EXPECT_EQ(meta.at("models").size(), 5u);
  const Decider loaded = Decider::load(dir, kNames);
  EXPECT_EQ(loaded.num_models(), 5);
  EXPECT_EQ(loaded.threshold(), decider_->threshold());
  EXPECT_EQ(loaded.best_iteration(), decider_->best_iteration());
  EXPECT_EQ(loaded.predict(test_.x.data(), test_.y.size()),
            decider_->predict(test_.x.data(), test_.y.size()));
  std::filesystem::remove_all(dir);
}

TEST_F(CrossFittedTest, TruncatedFoldModelIsNamed) {
  const auto dir = temp_dir("cv_truncated");
  decider_->save(dir, kNames);
  const auto model = dir / "model_3.ubj";
  std::filesystem::resize_file(model, std::filesystem::file_size(model) - 7);
  try {
    Decider::load(dir, kNames);
    FAIL() << "expected doppel::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model_3.ubj"), std::string::npos) << e.what();
  }
  std::filesystem::remove(model);
  try {
    Decider::load(dir, kNames);
    FAIL() << "expected doppel::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model_3.ubj"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

// Saving a one-model decider over a five-model folder leaves no stale model files behind.
TEST_F(CrossFittedTest, SavingFewerModelsRemovesStaleFiles) {
  const auto dir = temp_dir("cv_stale");
  decider_->save(dir, kNames);
  const auto d = toy(300, 13);
  Decider::train(d.x.data(), d.y, labelled_.x.data(), labelled_.y, kFeatures, fast_options())
      .save(dir, kNames);
  EXPECT_TRUE(std::filesystem::exists(dir / "model_0.ubj"));
  EXPECT_FALSE(std::filesystem::exists(dir / "model_1.ubj"));
  EXPECT_FALSE(std::filesystem::exists(dir / "model_4.ubj"));
  EXPECT_EQ(Decider::load(dir, kNames).num_models(), 1);
  std::filesystem::remove_all(dir);
}

// A folder in the version-1 layout (one model.ubj, its size in "model_bytes", no calibration)
// still loads.
TEST_F(DeciderTest, LoadsVersionOneFolder) {
  const auto dir = temp_dir("v1");
  DeciderOptions uncalibrated = fast_options();
  uncalibrated.calibrate = false;
  const Decider raw = Decider::train(train_.x.data(), train_.y, valid_.x.data(), valid_.y,
                                     kFeatures, uncalibrated);
  raw.save(dir, kNames);
  std::filesystem::rename(dir / "model_0.ubj", dir / "model.ubj");
  auto meta = nlohmann::json::parse(read_file(dir / "decider.json"));
  meta["version"] = 1;
  meta["model_bytes"] = std::filesystem::file_size(dir / "model.ubj");
  meta.erase("models");
  meta["options"].erase("folds");
  meta.erase("calibration");
  std::ofstream(dir / "decider.json") << meta.dump(2);
  const Decider loaded = Decider::load(dir, kNames);
  EXPECT_EQ(loaded.num_models(), 1);
  EXPECT_EQ(loaded.threshold(), raw.threshold());
  EXPECT_EQ(loaded.best_iteration(), raw.best_iteration());
  EXPECT_EQ(loaded.predict(test_.x.data(), test_.y.size()),
            raw.predict(test_.x.data(), test_.y.size()));
  // Its truncation check still names the file.
  std::filesystem::resize_file(dir / "model.ubj", meta["model_bytes"].get<size_t>() / 2);
  try {
    Decider::load(dir, kNames);
    FAIL() << "expected doppel::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.ubj"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

TEST(Decider, CrossFittingNeedsEnoughOfEachClassAndValidFolds) {
  auto d = toy(200, 6);
  // Keep only 3 positives.
  size_t kept = 0;
  for (auto& l : d.y) {
    if (l && ++kept > 3) l = 0;
  }
  DeciderOptions options = fast_options();
  options.folds = 5;
  try {
    Decider::train_cross_fitted(d.x.data(), d.y, kFeatures, options);
    FAIL() << "expected doppel::Error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("5 folds"), std::string::npos) << what;
    EXPECT_NE(what.find("3 matches"), std::string::npos) << what;
  }
  options.folds = 3;
  EXPECT_EQ(Decider::train_cross_fitted(d.x.data(), d.y, kFeatures, options).num_models(), 3);
  for (int folds : {0, 21}) {
    options.folds = folds;
    EXPECT_THROW(options.validate(), Error) << folds;
  }
  options.folds = 1;  // valid for train(), not for cross-fitting
  EXPECT_NO_THROW(options.validate());
  EXPECT_THROW(Decider::train_cross_fitted(d.x.data(), d.y, kFeatures, options), Error);
}

}  // namespace
}  // namespace doppel
