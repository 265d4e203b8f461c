#include "text/tfidf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "util/error.h"
#include "util/expect_error.h"
#include "util/files.h"

namespace doppel {
namespace {

std::filesystem::path temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / "doppel_text_test";
  std::filesystem::create_directories(dir);
  return dir / name;
}

const std::vector<std::string> kCorpus = {
    "Apple iPhone 13 128GB Midnight", "Apple iPhone 13 256GB Blue",
    "Apple iPhone 12 64GB Red",       "Samsung Galaxy S21 128GB Phantom Grey",
    "Sony DSC-W120/B 7.2MP Camera",   "Apple MacBook Air M1 256GB",
};

HashedTfidf fitted(int bits = 16) {
  HashedTfidf::Options o;
  o.bits = bits;
  HashedTfidf t(o);
  t.fit(kCorpus);
  return t;
}

double norm(const SparseVector& v) {
  double s = 0;
  for (float x : v.value) s += double(x) * x;
  return std::sqrt(s);
}

TEST(HashedTfidf, TransformIsSortedAndUnitNorm) {
  auto t = fitted();
  auto v = t.transform("Apple iPhone 13 128GB Midnight");
  ASSERT_FALSE(v.index.empty());
  ASSERT_EQ(v.index.size(), v.value.size());
  for (size_t i = 1; i < v.index.size(); ++i) EXPECT_LT(v.index[i - 1], v.index[i]);
  EXPECT_NEAR(norm(v), 1.0, 1e-5);
  EXPECT_TRUE(t.transform("  --  ").index.empty());
}

TEST(HashedTfidf, CosineIdenticalDisjointAndNear) {
  auto t = fitted();
  auto a = t.transform("Apple iPhone 13 128GB Midnight");
  EXPECT_NEAR(HashedTfidf::cosine(a, t.transform("APPLE  iphone 13 128gb midnight")), 1.0f, 1e-5);
  EXPECT_NEAR(HashedTfidf::cosine(a, t.transform("zzqx vvwk")), 0.0f, 0.02f);
  const float near = HashedTfidf::cosine(a, t.transform("iPhone13 128 GB midnight Apple"));
  const float far = HashedTfidf::cosine(a, t.transform("Samsung Galaxy S21 Phantom Grey"));
  EXPECT_GT(near, 0.5f);
  EXPECT_GT(near, far + 0.3f);
  EXPECT_EQ(HashedTfidf::cosine(a, SparseVector{}), 0.0f);
}

TEST(HashedTfidf, CosineWithStoredNormsIsBitForBitTheSame) {
  auto t = fitted();
  const std::vector<std::string> texts = {"Apple iPhone 13 128GB Midnight", "iPhone13 128 GB",
                                          "Samsung Galaxy S21 Phantom Grey", ""};
  for (const auto& x : texts) {
    for (const auto& y : texts) {
      const SparseVector a = t.transform(x), b = t.transform(y);
      const float plain = HashedTfidf::cosine(a, b);
      const float normed = HashedTfidf::cosine(NormedSparseVector(a), NormedSparseVector(b));
      EXPECT_EQ(std::memcmp(&plain, &normed, sizeof plain), 0) << x << " | " << y;
    }
  }
}

TEST(HashedTfidf, RareWordsHaveHigherIdf) {
  auto t = fitted();
  EXPECT_EQ(t.num_docs(), kCorpus.size());
  const float apple = t.idf(t.word_bucket("apple"));      // 4 of 6 texts
  const float samsung = t.idf(t.word_bucket("samsung"));  // 1 of 6
  const float unseen = t.idf(t.word_bucket("nokia"));     // 0 of 6
  EXPECT_GT(samsung, apple);
  EXPECT_GT(unseen, samsung);
  EXPECT_NEAR(apple, std::log(7.0f / 5.0f) + 1.0f, 1e-5);
  EXPECT_NEAR(unseen, std::log(7.0f) + 1.0f, 1e-5);
}

TEST(HashedTfidf, CharGramsArePaddedCodepoints) {
  auto t = fitted();
  EXPECT_EQ(t.char_buckets("abc").size(), 3u);  // #ab abc bc#
  EXPECT_EQ(t.char_buckets("b").size(), 1u);    // #b#
  EXPECT_EQ(t.char_buckets("черныи").size(), 6u);
  // Stable hash: the same token lands in the same bucket in any process.
  HashedTfidf::Options o;
  o.bits = 16;
  EXPECT_EQ(HashedTfidf(o).word_bucket("apple"), t.word_bucket("apple"));
}

TEST(HashedTfidf, SaveLoadRoundTrip) {
  auto t = fitted(12);
  auto path = temp_path("tfidf.bin");
  t.save(path);
  auto back = HashedTfidf::load(path);
  EXPECT_EQ(back.bits(), 12);
  EXPECT_EQ(back.num_docs(), t.num_docs());
  for (uint32_t b = 0; b < t.num_buckets(); ++b) ASSERT_EQ(back.idf(b), t.idf(b)) << b;
  auto a = t.transform(kCorpus[4]);
  auto c = back.transform(kCorpus[4]);
  EXPECT_EQ(a.index, c.index);
  EXPECT_EQ(a.value, c.value);
}

TEST(HashedTfidf, LoadRejectsBadFiles) {
  auto path = temp_path("good_tfidf.bin");
  fitted(10).save(path);
  const std::string good = read_file(path);
  auto expect_error = [&](const std::string& bytes, std::string_view needle) {
    expect_load_error(
        temp_path("bad_tfidf.bin"), bytes, [](const auto& p) { HashedTfidf::load(p); }, needle);
  };
  expect_error(good.substr(0, 12), "truncated");
  expect_error(good.substr(0, good.size() - 4), "truncated tfidf file");
  expect_error(good + "x", "oversized");
  std::string magic = good;
  magic[0] = 'Q';
  expect_error(magic, "magic");
  std::string version = good;
  version[8] = 7;
  expect_error(version, "tfidf format version 7, this doppel reads 1");
  std::string bits = good;
  bits[12] = 40;
  expect_error(bits, "bits must be in 8..28, got 40");
}

TEST(HashedTfidf, OptionsValidate) {
  HashedTfidf::Options o;
  o.bits = 4;
  EXPECT_THROW(HashedTfidf{o}, Error);
  o.bits = 10;
  o.word_weight = 0;
  o.char_weight = 0;
  EXPECT_THROW(HashedTfidf{o}, Error);
}

}  // namespace
}  // namespace doppel
