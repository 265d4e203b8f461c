#include "decide/decider.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>

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

DeciderOptions fast_options(Classifier classifier = Classifier::kXgboost) {
  DeciderOptions o;
  o.classifier = classifier;
  o.xgboost.rounds = 60;
  o.xgboost.eta = 0.2f;
  o.xgboost.max_depth = 3;
  o.xgboost.early_stopping_rounds = 10;
  o.mlp.hidden = {16, 8};
  o.mlp.epochs = 60;
  o.mlp.patience = 10;
  o.mlp.optimizer.lr = 1e-2;
  o.threads = 1;
  return o;
}

// The most iterations (boosting rounds or epochs) fast_options lets training run.
int max_iterations(Classifier classifier) {
  const auto o = fast_options(classifier);
  return classifier == Classifier::kMlp ? o.mlp.epochs : o.xgboost.rounds;
}

std::string classifier_test_name(const ::testing::TestParamInfo<Classifier>& info) {
  return std::string(classifier_name(info.param));
}

const std::vector<std::string_view> kNames = {"x0", "noise", "sometimes_missing"};

std::filesystem::path temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("doppel_decider_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

// Every test runs for each classifier; the decider is trained once per classifier.
class DeciderTest : public ::testing::TestWithParam<Classifier> {
 protected:
  static void SetUpTestSuite() {
    train_ = toy(1500, 1);
    valid_ = toy(500, 2);
    test_ = toy(1000, 3);
  }
  static void TearDownTestSuite() {
    for (auto& trained : trained_) trained.reset();
  }
  const Decider& decider() {
    auto& trained = trained_[static_cast<int>(GetParam())];
    if (!trained) {
      trained = std::make_unique<Decider>(Decider::train(train_.x.data(), train_.y, valid_.x.data(),
                                                         valid_.y, kFeatures, options()));
    }
    return *trained;
  }
  DeciderOptions options() const { return fast_options(GetParam()); }
  std::string model_file(size_t k) const { return Decider::model_file_name(GetParam(), k); }

  static ToyData train_, valid_, test_;
  static std::unique_ptr<Decider> trained_[2];
};
ToyData DeciderTest::train_, DeciderTest::valid_, DeciderTest::test_;
std::unique_ptr<Decider> DeciderTest::trained_[2];
INSTANTIATE_TEST_SUITE_P(Classifiers, DeciderTest,
                         ::testing::Values(Classifier::kXgboost, Classifier::kMlp),
                         classifier_test_name);

TEST_P(DeciderTest, LearnsToyProblemOnHeldOutData) {
  const auto scores = decider().predict(test_.x.data(), test_.y.size());
  ASSERT_EQ(scores.size(), test_.y.size());
  for (float s : scores) {
    EXPECT_GE(s, 0.0f);
    EXPECT_LE(s, 1.0f);
  }
  const auto m = binary_metrics(scores, test_.y, decider().threshold());
  EXPECT_GT(m.f1, 0.9);
  EXPECT_GT(decider().threshold(), 0.0f);
  EXPECT_LT(decider().threshold(), 1.0f);
  EXPECT_EQ(decider().num_features(), kFeatures);
  EXPECT_LT(decider().best_iteration(), max_iterations(GetParam()));
}

TEST_P(DeciderTest, ConfidenceIsCalibratedOnHeldOutData) {
  // Among test pairs given confidence in a bin, the share of matches is about the bin's value
  // (the map was fitted on the valid split, the test split is fresh).
  const auto scores = decider().predict(test_.x.data(), test_.y.size());
  double expected = 0, observed = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    expected += scores[i];
    observed += test_.y[i];
  }
  EXPECT_NEAR(expected / scores.size(), observed / scores.size(), 0.05);
}

TEST_P(DeciderTest, TargetPrecisionTradesRecallForPrecision) {
  DeciderOptions strict = options();
  strict.target_precision = 0.99;
  const auto precise =
      Decider::train(train_.x.data(), train_.y, valid_.x.data(), valid_.y, kFeatures, strict);
  const auto valid_scores = precise.predict(valid_.x.data(), valid_.y.size());
  const auto m = binary_metrics(valid_scores, valid_.y, precise.threshold());
  EXPECT_GE(m.precision, 0.99);
  EXPECT_GE(precise.threshold(), decider().threshold());
  strict.target_precision = 1.5;
  EXPECT_THROW(strict.validate(), Error);
}

TEST_P(DeciderTest, SaveLoadRoundTripPredictsIdentically) {
  const auto dir = temp_dir("roundtrip");
  decider().save(dir, kNames);
  const Decider loaded = Decider::load(dir, kNames);
  EXPECT_EQ(loaded.threshold(), decider().threshold());
  EXPECT_EQ(loaded.num_features(), kFeatures);
  EXPECT_EQ(loaded.best_iteration(), decider().best_iteration());
  EXPECT_EQ(loaded.predict(test_.x.data(), test_.y.size()),
            decider().predict(test_.x.data(), test_.y.size()));
  std::filesystem::remove_all(dir);
}

// The server predicts from several request threads at once, each call on one thread.
TEST_P(DeciderTest, ConcurrentSingleThreadedPredictionsEqualSerialOnes) {
  const auto dir = temp_dir("concurrent");
  decider().save(dir, kNames);
  Decider loaded = Decider::load(dir, kNames);
  std::filesystem::remove_all(dir);
  const size_t n = test_.y.size();
  const auto expected = decider().predict(test_.x.data(), n);
  loaded.set_prediction_threads(1);
  EXPECT_EQ(loaded.predict(test_.x.data(), n), expected);
  // Each thread scores small batches (a match's candidates) at its own offsets, many times, and
  // must get what one thread got for the same batch (an MLP's last bits depend on the batching).
  constexpr size_t kThreads = 4, kBatch = 7;
  const auto batch = [&](size_t start) {
    return loaded.predict(test_.x.data() + start * kFeatures, kBatch);
  };
  std::vector<std::vector<float>> serial;
  for (size_t start = 0; start + kBatch <= n; ++start) serial.push_back(batch(start));
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (size_t start = t; start + kBatch <= n; start += kThreads)
        mismatches[t] += batch(start) != serial[start];
    });
  for (auto& thread : threads) thread.join();
  for (size_t t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

TEST_P(DeciderTest, LoadWithOtherFeatureListFails) {
  const auto dir = temp_dir("names");
  decider().save(dir, kNames);
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

TEST_P(DeciderTest, TruncatedOrDamagedFilesFail) {
  const auto dir = temp_dir("truncated");
  decider().save(dir, kNames);
  const auto model = dir / model_file(0);
  std::filesystem::resize_file(model, std::filesystem::file_size(model) / 2);
  EXPECT_THROW(Decider::load(dir, kNames), Error);
  // The same truncation with a matching size in decider.json: the model's parser must reject it.
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

// decider.json listing more features than the model file was trained on: the load names the file.
TEST_P(DeciderTest, ModelOfAnotherWidthIsNamed) {
  const auto dir = temp_dir("width");
  decider().save(dir, kNames);
  auto meta = nlohmann::json::parse(read_file(dir / "decider.json"));
  meta["feature_names"].push_back("extra");
  std::ofstream(dir / "decider.json") << meta.dump();
  try {
    const std::vector<std::string_view> four = {"x0", "noise", "sometimes_missing", "extra"};
    Decider::load(dir, four);
    FAIL() << "expected doppel::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(model_file(0)), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("4"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

// y = (x0 > 0.5) xor (x1 > 0.5): neither feature alone nor any plane separates the classes, so
// only a classifier that learns interactions (trees' splits, the MLP's hidden layers) passes.
TEST_P(DeciderTest, LearnsAnInteraction) {
  auto make = [](size_t n, uint32_t seed) {
    ToyData d = toy(n, seed);
    for (size_t i = 0; i < n; ++i) {
      d.y[i] = (d.x[i * kFeatures] > 0.5f) != (d.x[i * kFeatures + 1] > 0.5f);
    }
    return d;
  };
  const auto train = make(1500, 21), valid = make(500, 22), test = make(1000, 23);
  const Decider xor_decider =
      Decider::train(train.x.data(), train.y, valid.x.data(), valid.y, kFeatures, options());
  const auto scores = xor_decider.predict(test.x.data(), test.y.size());
  EXPECT_GT(binary_metrics(scores, test.y, xor_decider.threshold()).f1, 0.9);
}

TEST(Decider, EmptyOrSingleClassSplitsFail) {
  const auto d = toy(100, 4);
  const std::vector<uint8_t> all_ones(100, 1);
  EXPECT_THROW(Decider::train(d.x.data(), all_ones, d.x.data(), d.y, kFeatures, fast_options()),
               Error);
  EXPECT_THROW(Decider::train(d.x.data(), d.y, d.x.data(), {}, kFeatures, fast_options()), Error);
  DeciderOptions bad = fast_options();
  bad.xgboost.eta = 0;
  EXPECT_THROW(Decider::train(d.x.data(), d.y, d.x.data(), d.y, kFeatures, bad), Error);
  bad = fast_options(Classifier::kMlp);
  bad.mlp.hidden = {};
  EXPECT_THROW(Decider::train(d.x.data(), d.y, d.x.data(), d.y, kFeatures, bad), Error);
  bad = fast_options(Classifier::kMlp);
  bad.mlp.dropout = 1;
  EXPECT_THROW(bad.validate(), Error);
  EXPECT_THROW(parse_classifier("forest"), Error);
}

TEST(DeciderOptions, RandomNegativesAreCheckedAndStoredWithTheDecider) {
  DeciderOptions options = fast_options();
  for (double bad : {-0.5, 101.0, std::nan("")}) {
    options.random_negatives = bad;
    EXPECT_THROW(options.validate(), Error) << bad;
  }
  options.random_negatives = 2.5;
  EXPECT_NO_THROW(options.validate());
  auto json = options_to_json(options);
  EXPECT_EQ(options_from_json(json, 4).random_negatives, 2.5);
  // A decider trained before random negatives existed was trained without them.
  json.erase("random_negatives");
  EXPECT_EQ(options_from_json(json, 4).random_negatives, 0.0);
}

TEST(DeciderOptions, BootstrapIsStoredWithTheDecider) {
  DeciderOptions options = fast_options();
  options.bootstrap = true;
  auto json = options_to_json(options);
  EXPECT_TRUE(options_from_json(json, 4).bootstrap);
  json.erase("bootstrap");  // trained before bootstrap labels existed: on labels alone
  EXPECT_FALSE(options_from_json(json, 4).bootstrap);
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

// Every test runs for each classifier; the 5-fold decider is trained once per classifier.
class CrossFittedTest : public ::testing::TestWithParam<Classifier> {
 protected:
  static void SetUpTestSuite() {
    labelled_ = toy(2000, 11);
    test_ = toy(1000, 12);
  }
  static void TearDownTestSuite() {
    for (auto& trained : trained_) trained.reset();
  }
  struct Trained {
    Decider decider;
    std::vector<float> oof;
  };
  const Trained& trained() {
    auto& trained = trained_[static_cast<int>(GetParam())];
    if (!trained) {
      std::vector<float> oof;
      Decider decider =
          Decider::train_cross_fitted(labelled_.x.data(), labelled_.y, kFeatures, options(), &oof);
      trained.reset(new Trained{std::move(decider), std::move(oof)});
    }
    return *trained;
  }
  const Decider& decider() { return trained().decider; }
  DeciderOptions options() const {
    DeciderOptions o = fast_options(GetParam());
    o.folds = 5;
    return o;
  }
  std::string model_file(size_t k) const { return Decider::model_file_name(GetParam(), k); }

  static ToyData labelled_, test_;
  static std::unique_ptr<Trained> trained_[2];
};
ToyData CrossFittedTest::labelled_, CrossFittedTest::test_;
std::unique_ptr<CrossFittedTest::Trained> CrossFittedTest::trained_[2];
INSTANTIATE_TEST_SUITE_P(Classifiers, CrossFittedTest,
                         ::testing::Values(Classifier::kXgboost, Classifier::kMlp),
                         classifier_test_name);

TEST_P(CrossFittedTest, LearnsToyProblemOnHeldOutData) {
  EXPECT_EQ(decider().num_models(), 5);
  const auto scores = decider().predict(test_.x.data(), test_.y.size());
  ASSERT_EQ(scores.size(), test_.y.size());
  for (float s : scores) {
    EXPECT_GE(s, 0.0f);
    EXPECT_LE(s, 1.0f);
  }
  EXPECT_GT(binary_metrics(scores, test_.y, decider().threshold()).f1, 0.9);
  // Every labelled pair got an out-of-fold score, and the threshold is the best cut of them.
  ASSERT_EQ(trained().oof.size(), labelled_.y.size());
  for (float s : trained().oof) ASSERT_TRUE(s >= 0.0f && s <= 1.0f) << s;
  EXPECT_EQ(decider().threshold(), best_f1_threshold(trained().oof, labelled_.y));
  EXPECT_GT(binary_metrics(trained().oof, labelled_.y, decider().threshold()).f1, 0.9);
  EXPECT_LT(decider().best_iteration(), max_iterations(GetParam()));
}

TEST_P(CrossFittedTest, SameSeedGivesIdenticalPredictions) {
  std::vector<float> oof;
  const Decider again =
      Decider::train_cross_fitted(labelled_.x.data(), labelled_.y, kFeatures, options(), &oof);
  EXPECT_EQ(oof, trained().oof);
  EXPECT_EQ(again.threshold(), decider().threshold());
  EXPECT_EQ(again.predict(test_.x.data(), test_.y.size()),
            decider().predict(test_.x.data(), test_.y.size()));
}

TEST_P(CrossFittedTest, SaveLoadRoundTripPredictsIdentically) {
  const auto dir = temp_dir("cv_roundtrip");
  decider().save(dir, kNames);
  for (int k = 0; k < 5; ++k) EXPECT_TRUE(std::filesystem::exists(dir / model_file(k))) << k;
  const auto meta = nlohmann::json::parse(read_file(dir / "decider.json"));
  EXPECT_EQ(meta.at("version"), 4);
  EXPECT_EQ(meta.at("options").at("classifier"), classifier_name(GetParam()));
  EXPECT_EQ(meta.at("models").size(), 5u);
  const Decider loaded = Decider::load(dir, kNames);
  EXPECT_EQ(loaded.num_models(), 5);
  EXPECT_EQ(loaded.threshold(), decider().threshold());
  EXPECT_EQ(loaded.best_iteration(), decider().best_iteration());
  EXPECT_EQ(loaded.predict(test_.x.data(), test_.y.size()),
            decider().predict(test_.x.data(), test_.y.size()));
  std::filesystem::remove_all(dir);
}

TEST_P(CrossFittedTest, TruncatedFoldModelIsNamed) {
  const auto dir = temp_dir("cv_truncated");
  decider().save(dir, kNames);
  const auto model = dir / model_file(3);
  std::filesystem::resize_file(model, std::filesystem::file_size(model) - 7);
  try {
    Decider::load(dir, kNames);
    FAIL() << "expected doppel::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(model_file(3)), std::string::npos) << e.what();
  }
  std::filesystem::remove(model);
  try {
    Decider::load(dir, kNames);
    FAIL() << "expected doppel::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(model_file(3)), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

// Saving a one-model decider over a five-model folder leaves no stale model files behind, of
// either classifier.
TEST_P(CrossFittedTest, SavingFewerModelsRemovesStaleFiles) {
  const auto d = toy(300, 13);
  for (Classifier other : {Classifier::kXgboost, Classifier::kMlp}) {
    const auto dir = temp_dir("cv_stale");
    decider().save(dir, kNames);
    const Decider one = Decider::train(d.x.data(), d.y, labelled_.x.data(), labelled_.y, kFeatures,
                                       fast_options(other));
    one.save(dir, kNames);
    size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      files += entry.path().filename().string().starts_with("model_");
    }
    EXPECT_EQ(files, 1u) << classifier_name(other);
    EXPECT_TRUE(std::filesystem::exists(dir / Decider::model_file_name(other, 0)));
    const Decider loaded = Decider::load(dir, kNames);
    EXPECT_EQ(loaded.num_models(), 1);
    EXPECT_EQ(loaded.classifier(), other);
    std::filesystem::remove_all(dir);
  }
}

// A folder in the version-1 layout (one model.ubj, its size in "model_bytes", no calibration)
// still loads.
// Version 1 knew XGBoost only.
TEST(Decider, LoadsVersionOneFolder) {
  const auto dir = temp_dir("v1");
  const ToyData train = toy(1500, 1), valid = toy(500, 2), test = toy(1000, 3);
  DeciderOptions uncalibrated = fast_options(Classifier::kXgboost);
  uncalibrated.calibrate = false;
  const Decider raw =
      Decider::train(train.x.data(), train.y, valid.x.data(), valid.y, kFeatures, uncalibrated);
  raw.save(dir, kNames);
  std::filesystem::rename(dir / "model_0.ubj", dir / "model.ubj");
  auto meta = nlohmann::json::parse(read_file(dir / "decider.json"));
  meta["version"] = 1;
  meta["model_bytes"] = std::filesystem::file_size(dir / "model.ubj");
  meta.erase("models");
  meta["options"] = meta["options"]["xgboost"];  // flat, without the fields version 1 lacked
  meta["options"]["threads"] = 1;
  meta["options"]["seed"] = 42;
  meta.erase("calibration");
  std::ofstream(dir / "decider.json") << meta.dump(2);
  const Decider loaded = Decider::load(dir, kNames);
  EXPECT_EQ(loaded.num_models(), 1);
  EXPECT_EQ(loaded.threshold(), raw.threshold());
  EXPECT_EQ(loaded.best_iteration(), raw.best_iteration());
  EXPECT_EQ(loaded.predict(test.x.data(), test.y.size()),
            raw.predict(test.x.data(), test.y.size()));
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
