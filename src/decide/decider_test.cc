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
  const auto model = dir / "model.ubj";
  std::filesystem::resize_file(model, std::filesystem::file_size(model) / 2);
  EXPECT_THROW(Decider::load(dir, kNames), Error);
  // The same truncation with a matching size in decider.json: XGBoost's own parser must reject it.
  {
    auto meta = nlohmann::json::parse(read_file(dir / "decider.json"));
    meta["model_bytes"] = std::filesystem::file_size(model);
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

}  // namespace
}  // namespace doppel
