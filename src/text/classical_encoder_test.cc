#include "text/classical_encoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <vector>

#include "text/normalize.h"
#include "util/error.h"

namespace doppel {
namespace {

// A small catalog of 150 products, each listed twice: an original title and a re-listing with
// the case, spacing, word order and a filler word changed (the near-duplicate).
std::vector<Listing> generated_catalog() {
  const char* brands[] = {"Apple", "Samsung", "Sony", "Philips", "Bosch", "Xiaomi"};
  const char* kinds[] = {"Phone",   "Camera",  "Kettle", "Headphones", "Drill",
                         "Monitor", "Blender", "Watch",  "Speaker",    "Router"};
  const char* colors[] = {"Black", "White", "Silver", "Blue", "Red", "Green", "Midnight", "Gold"};
  const char* fillers[] = {"new", "original", "fast shipping", "2024", "sealed"};
  std::mt19937_64 rng(7);
  std::vector<Listing> out;
  for (int i = 0; i < 150; ++i) {
    const std::string brand = brands[rng() % 6];
    const std::string kind = kinds[rng() % 10];
    const std::string color = colors[rng() % 8];
    const std::string code = std::string(1, char('A' + rng() % 26)) +
                             std::string(1, char('A' + rng() % 26)) + "-" +
                             std::to_string(100 + rng() % 900);
    const std::string size = std::to_string(16 << (rng() % 5)) + "GB";
    Listing a;
    a.id = "a" + std::to_string(i);
    a.title = brand + " " + kind + " " + code + " " + size + " " + color;
    a.brand = brand;
    Listing b;
    b.id = "b" + std::to_string(i);
    std::string upper_code = code;
    upper_code.erase(upper_code.find('-'), 1);
    b.title = kind + " " + brand + " " + upper_code + " " + size.substr(0, size.size() - 2) +
              " gb " + color + " " + fillers[rng() % 5];
    for (auto& c : b.title) c = static_cast<char>(rng() % 3 == 0 ? std::toupper(c) : c);
    out.push_back(a);
    out.push_back(b);
  }
  return out;
}

ClassicalTextEncoder::Options small_options() {
  ClassicalTextEncoder::Options o;
  o.hash_bits = 16;
  o.fold_dim = 1024;
  o.out_dim = 64;
  return o;
}

std::vector<float> encode_all(const ClassicalTextEncoder& enc, const std::vector<Listing>& c) {
  std::vector<float> out(c.size() * enc.dim());
  enc.encode(c, out.data());
  return out;
}

float dot(const float* a, const float* b, int d) {
  float s = 0;
  for (int j = 0; j < d; ++j) s += a[j] * b[j];
  return s;
}

// Fraction of originals whose re-listing is their nearest neighbour, and the gap between the
// mean duplicate cosine and the mean unrelated cosine.
void check_near_duplicates(const ClassicalTextEncoder::Options& options) {
  const auto catalog = generated_catalog();
  const auto enc = ClassicalTextEncoder::fit(catalog, options);
  EXPECT_EQ(enc.name(), "tfidf-pca" + std::to_string(options.out_dim));
  EXPECT_EQ(enc.dim(), options.out_dim);
  const int d = enc.dim();
  const auto v = encode_all(enc, catalog);
  for (size_t i = 0; i < catalog.size(); ++i) {
    EXPECT_NEAR(dot(&v[i * d], &v[i * d], d), 1.0f, 1e-4) << "row " << i;
  }
  size_t top1 = 0;
  double dup_sum = 0, other_sum = 0;
  for (size_t p = 0; p < catalog.size() / 2; ++p) {
    const float* a = &v[2 * p * d];
    const float dup = dot(a, &v[(2 * p + 1) * d], d);
    float best_other = -2;
    for (size_t j = 0; j < catalog.size(); ++j) {
      if (j == 2 * p || j == 2 * p + 1) continue;
      const float s = dot(a, &v[j * d], d);
      best_other = std::max(best_other, s);
      other_sum += s;
    }
    dup_sum += dup;
    top1 += dup > best_other;
  }
  const size_t pairs = catalog.size() / 2;
  const double dup_mean = dup_sum / pairs;
  const double other_mean = other_sum / (pairs * (catalog.size() - 2));
  ::testing::Test::RecordProperty("top1_" + enc.name(), std::to_string(double(top1) / pairs));
  ::testing::Test::RecordProperty("dup_cos_" + enc.name(), std::to_string(dup_mean));
  ::testing::Test::RecordProperty("other_cos_" + enc.name(), std::to_string(other_mean));
  EXPECT_GE(double(top1) / pairs, 0.9) << top1 << " of " << pairs;
  EXPECT_GT(dup_mean, other_mean + 0.3);
}

TEST(ClassicalTextEncoder, NearDuplicatesAreNearestNeighbours) {
  check_near_duplicates(small_options());
  check_near_duplicates(ClassicalTextEncoder::Options());  // defaults: 2^20 buckets, 2048 → 128
}

TEST(ClassicalTextEncoder, DeterministicWithSeedAndEmptyListingsGiveZeroRows) {
  auto catalog = generated_catalog();
  const auto a = encode_all(ClassicalTextEncoder::fit(catalog, small_options()), catalog);
  const auto b = encode_all(ClassicalTextEncoder::fit(catalog, small_options()), catalog);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-5) << i;

  const auto enc = ClassicalTextEncoder::fit(catalog, small_options());
  std::vector<Listing> empty(2);
  empty[1].title = "-- !!";
  const auto z = encode_all(enc, empty);
  for (float x : z) EXPECT_EQ(x, 0.0f);
}

TEST(ClassicalTextEncoder, EncodingTfidfVectorsGivesTheListingsRows) {
  auto catalog = generated_catalog();
  catalog[7].title = "-- !!";  // no tokens: a zero row either way
  catalog[7].brand.clear();
  catalog[7].model_number.clear();
  catalog[7].description.clear();
  const auto enc = ClassicalTextEncoder::fit(catalog, small_options());
  std::vector<SparseVector> tfidf;
  for (const Listing& listing : catalog) {
    tfidf.push_back(enc.tfidf().transform(listing_text(listing)));
  }
  std::vector<const SparseVector*> pointers;
  for (const SparseVector& v : tfidf) pointers.push_back(&v);
  std::vector<float> rows(catalog.size() * static_cast<size_t>(enc.dim()));
  enc.encode_tfidf(pointers, rows.data());
  EXPECT_EQ(rows, encode_all(enc, catalog));
  for (int d = 0; d < enc.dim(); ++d) EXPECT_EQ(rows[7 * static_cast<size_t>(enc.dim()) + d], 0.0f);
}

// Re-embedding a catalog after one listing was added must leave every other vector's bytes as
// they were (the index update applies only vectors whose bytes moved), so a row may not depend on
// how many rows are encoded with it or where it sits among them.
TEST(ClassicalTextEncoder, ARowsBytesDoNotDependOnTheRowsEncodedWithIt) {
  const auto catalog = generated_catalog();
  const auto enc = ClassicalTextEncoder::fit(catalog, small_options());
  const size_t d = static_cast<size_t>(enc.dim());
  const auto all = encode_all(enc, catalog);
  for (size_t offset : {0, 1, 5}) {
    for (size_t count : {1, 2, 7, 33, 100, 171, 294}) {
      const std::vector<Listing> part(catalog.begin() + offset, catalog.begin() + offset + count);
      const auto rows = encode_all(enc, part);
      for (size_t i = 0; i < count; ++i) {
        ASSERT_TRUE(std::equal(rows.begin() + i * d, rows.begin() + (i + 1) * d,
                               all.begin() + (offset + i) * d))
            << "listing " << offset + i << " encoded among " << count << " from " << offset;
      }
    }
  }
}

TEST(ClassicalTextEncoder, SaveLoadRoundTrip) {
  const auto catalog = generated_catalog();
  const auto enc = ClassicalTextEncoder::fit(catalog, small_options());
  const auto dir = std::filesystem::temp_directory_path() / "doppel_text_test" / "encoder";
  std::filesystem::remove_all(dir);
  enc.save(dir);
  EXPECT_TRUE(std::filesystem::exists(dir / "config.json"));
  const auto back = ClassicalTextEncoder::load(dir);
  EXPECT_EQ(back.name(), enc.name());
  EXPECT_EQ(back.options().fold_dim, 1024);
  EXPECT_EQ(encode_all(back, catalog), encode_all(enc, catalog));

  std::filesystem::remove(dir / "pca.bin");
  EXPECT_THROW(ClassicalTextEncoder::load(dir), Error);
  EXPECT_THROW(ClassicalTextEncoder::load(dir / "missing"), Error);
}

TEST(ClassicalTextEncoder, TooSmallCatalogIsAClearError) {
  auto catalog = generated_catalog();
  catalog.resize(40);
  try {
    ClassicalTextEncoder::fit(catalog, small_options());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("only 40 of 40 listings"), std::string::npos) << e.what();
  }
  auto o = small_options();
  o.out_dim = 2000;
  EXPECT_THROW(ClassicalTextEncoder::fit(catalog, o), Error);
}

}  // namespace
}  // namespace doppel
