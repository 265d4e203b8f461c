#include "reduce/pca.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include "util/error.h"
#include "util/expect_error.h"
#include "util/files.h"

namespace doppel {
namespace {

// n rows in d dims lying exactly in a rank-3 affine subspace (plus an offset).
std::vector<float> rank3_data(size_t n, int d, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> basis(3 * d), offset(d);
  for (auto& v : basis) v = g(rng);
  for (auto& v : offset) v = g(rng);
  std::vector<float> x(n * d);
  for (size_t i = 0; i < n; ++i) {
    const float c[3] = {3 * g(rng), 2 * g(rng), g(rng)};
    for (int j = 0; j < d; ++j) {
      x[i * d + j] = offset[j] + c[0] * basis[j] + c[1] * basis[d + j] + c[2] * basis[2 * d + j];
    }
  }
  return x;
}

double sq_dist(const float* a, const float* b, int d) {
  double s = 0;
  for (int j = 0; j < d; ++j) s += double(a[j] - b[j]) * (a[j] - b[j]);
  return s;
}

std::filesystem::path temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / "doppel_reduce_test";
  std::filesystem::create_directories(dir);
  return dir / name;
}

TEST(Pca, KeepsAllVarianceOfRank3Data) {
  const int d = 16;
  const size_t n = 500;
  auto x = rank3_data(n, d, 7);
  Pca pca = Pca::fit(x.data(), n, d, 3);
  EXPECT_EQ(pca.d_in(), d);
  EXPECT_EQ(pca.d_out(), 3);
  std::vector<float> y(n * 3);
  pca.apply(x.data(), n, y.data());
  // The projection is an isometry on the subspace: pairwise distances survive.
  for (size_t i = 0; i + 1 < n; i += 37) {
    const double orig = sq_dist(&x[i * d], &x[(i + 1) * d], d);
    const double red = sq_dist(&y[i * 3], &y[(i + 1) * 3], 3);
    EXPECT_NEAR(red, orig, 1e-3 * orig + 1e-3) << "row " << i;
  }
  auto ev = pca.eigenvalues();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_GE(ev[0], ev[1]);
  EXPECT_GE(ev[1], ev[2]);
  EXPECT_GT(ev[2], 0.0f);
}

TEST(Pca, ApplyRowProjectsAsApplyDoesAndSkipsZeros) {
  const int d = 32;
  const size_t n = 300;
  auto x = rank3_data(n, d, 11);
  Pca pca = Pca::fit(x.data(), n, d, 8);
  for (size_t i = 0; i < n; i += 3) {  // sparse rows: apply_row skips their zero entries
    for (int j = 0; j < d; ++j) x[i * d + j] = j % 5 == 0 ? x[i * d + j] : 0.0f;
  }
  std::vector<float> batch(n * 8), row(8);
  pca.apply(x.data(), n, batch.data());
  for (size_t i = 0; i < n; ++i) {
    pca.apply_row(&x[i * d], row.data());
    for (int j = 0; j < 8; ++j) EXPECT_NEAR(row[j], batch[i * 8 + j], 1e-4) << i << "," << j;
  }
}

TEST(Pca, RejectsTooFewRowsAndBadDims) {
  auto x = rank3_data(10, 8, 1);
  EXPECT_THROW(Pca::fit(x.data(), 10, 8, 9), Error);
  EXPECT_THROW(Pca::fit(x.data(), 10, 8, 0), Error);
  try {
    Pca::fit(x.data(), 4, 8, 6);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("4 training rows"), std::string::npos) << e.what();
  }
}

TEST(Pca, SaveLoadRoundTrip) {
  const int d = 12;
  const size_t n = 200;
  auto x = rank3_data(n, d, 3);
  Pca pca = Pca::fit(x.data(), n, d, 5);
  auto path = temp_path("roundtrip.pca");
  pca.save(path);
  Pca back = Pca::load(path);
  EXPECT_EQ(back.d_in(), d);
  EXPECT_EQ(back.d_out(), 5);
  std::vector<float> a(n * 5), b(n * 5);
  pca.apply(x.data(), n, a.data());
  back.apply(x.data(), n, b.data());
  EXPECT_EQ(a, b);
}

TEST(Pca, LoadRejectsBadFiles) {
  const int d = 12;
  auto x = rank3_data(100, d, 5);
  auto path = temp_path("good.pca");
  Pca::fit(x.data(), 100, d, 4).save(path);
  const std::string good = read_file(path);

  auto expect_error = [&](const std::string& bytes, std::string_view needle) {
    expect_load_error(
        temp_path("bad.pca"), bytes, [](const auto& p) { Pca::load(p); }, needle);
  };
  expect_error(good.substr(0, 10), "header");
  expect_error(good.substr(0, good.size() - 9), "truncated");
  std::string wrong_magic = good;
  wrong_magic[0] = 'X';
  expect_error(wrong_magic, "magic");
  std::string wrong_version = good;
  wrong_version[8] = 7;
  expect_error(wrong_version, "version 7, this doppel reads 1");
  std::string wrong_dims = good;
  wrong_dims[16] = 9;
  expect_error(wrong_dims, "header says");
  EXPECT_THROW(Pca::load(temp_path("missing.pca")), Error);
}

}  // namespace
}  // namespace doppel
