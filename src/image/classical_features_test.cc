#include "image/classical_features.h"

#include <gtest/gtest.h>

#include <numeric>
#include <opencv2/imgproc.hpp>

#include "image/image_io.h"
#include "image/image_method.h"

namespace doppel {
namespace {

// A smooth but structured test picture: gradients and a few shapes.
cv::Mat scene(uint64_t seed, int size = 200) {
  cv::Mat img(size, size, CV_8UC3);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      img.at<cv::Vec3b>(y, x) = cv::Vec3b(uchar(x * 255 / size), uchar(y * 255 / size), 90);
    }
  }
  cv::RNG rng(seed);
  for (int i = 0; i < 6; ++i) {
    cv::circle(img, {rng.uniform(0, size), rng.uniform(0, size)}, rng.uniform(10, size / 3),
               cv::Scalar(rng.uniform(0, 256), rng.uniform(0, 256), rng.uniform(0, 256)), -1);
  }
  return img;
}

TEST(PHash, StableUnderResizeAndDifferentForOtherImages) {
  const cv::Mat a = scene(1), b = scene(2);
  const uint64_t ha = phash64(a);
  EXPECT_LE(hamming_distance(ha, phash64(resize_square(a, 120))), 4);
  cv::Mat brighter;
  a.convertTo(brighter, -1, 1.0, 20);
  EXPECT_LE(hamming_distance(ha, phash64(brighter)), 4);
  EXPECT_GE(hamming_distance(ha, phash64(b)), 16);
  // The median split sets about half of the bits.
  EXPECT_NEAR(std::popcount(ha), 32, 4);
  // A flat image has no AC energy: only the DC bit is above the (zero) median.
  EXPECT_EQ(phash64(cv::Mat(50, 50, CV_8UC3, cv::Scalar(9, 9, 9))), 1u);
}

TEST(DHash, StableUnderResizeAndGradientDirection) {
  const cv::Mat a = scene(1);
  EXPECT_LE(hamming_distance(dhash64(a), dhash64(resize_square(a, 120))), 4);
  cv::Mat ramp(20, 90, CV_8UC3);
  for (int x = 0; x < 90; ++x) ramp.col(x).setTo(cv::Scalar(x * 2, x * 2, x * 2));
  EXPECT_EQ(dhash64(ramp), ~uint64_t(0));  // brightness grows left to right everywhere
  cv::Mat flipped;
  cv::flip(ramp, flipped, 1);
  EXPECT_EQ(dhash64(flipped), 0u);
}

TEST(Hamming, CountsDifferentBits) {
  EXPECT_EQ(hamming_distance(0, 0), 0);
  EXPECT_EQ(hamming_distance(0b1011, 0b0001), 2);
  EXPECT_EQ(hamming_distance(0, ~uint64_t(0)), 64);
}

TEST(HsvHistogram, BinsNormalisationAndCentralRegion) {
  // Pure red is H 0, S 255, V 255: bin (0 × 8 + 7) × 8 + 7 = 63.
  const cv::Mat red(10, 10, CV_8UC3, cv::Scalar(255, 0, 0));
  const auto h = hsv_histogram(red);
  ASSERT_EQ(h.size(), 512u);
  EXPECT_FLOAT_EQ(h[63], 1.0f);
  EXPECT_FLOAT_EQ(std::accumulate(h.begin(), h.end(), 0.0f), 1.0f);

  // Blue border, red middle half: the whole image is mixed, the central 50% is all red.
  cv::Mat framed(100, 100, CV_8UC3, cv::Scalar(0, 0, 255));
  framed(cv::Rect(25, 25, 50, 50)).setTo(cv::Scalar(255, 0, 0));
  const auto whole = hsv_histogram(framed), centre = hsv_histogram(framed, 0.5);
  EXPECT_FLOAT_EQ(whole[63], 0.25f);
  EXPECT_FLOAT_EQ(centre[63], 1.0f);
}

TEST(ChiSquare, ZeroForEqualOneForDisjoint) {
  const std::vector<float> a = {0.5f, 0.5f, 0.0f}, b = {0.0f, 0.0f, 1.0f}, c = {0.5f, 0.0f, 0.5f};
  EXPECT_FLOAT_EQ(chi_square_distance(a, a), 0.0f);
  EXPECT_FLOAT_EQ(chi_square_distance(a, b), 1.0f);
  // ½ (0 + 0.25/0.5 + 0.25/0.5) = 0.5, and symmetric.
  EXPECT_FLOAT_EQ(chi_square_distance(a, c), 0.5f);
  EXPECT_FLOAT_EQ(chi_square_distance(c, a), 0.5f);
}

TEST(RgbThumbnail, CentredValuesAndCosine) {
  const auto t = rgb_thumbnail(scene(3));
  ASSERT_EQ(t.size(), 32u * 32 * 3);
  EXPECT_NEAR(std::accumulate(t.begin(), t.end(), 0.0), 0.0, 1e-3);
  for (float v : t) ASSERT_TRUE(v >= -1 && v <= 1);
  EXPECT_NEAR(cosine_distance(t, t), 0.0f, 1e-6);
  // Brightness-invariant: a uniformly brighter copy correlates perfectly.
  cv::Mat brighter;
  scene(3).convertTo(brighter, -1, 1.0, 30);
  EXPECT_LT(cosine_distance(t, rgb_thumbnail(brighter)), 0.02f);
  const std::vector<float> x = {1, 0}, y = {0, 2}, z = {0, 0};
  EXPECT_NEAR(cosine_distance(x, y), 1.0f, 1e-6);
  EXPECT_EQ(cosine_distance(x, z), 1.0f);
}

TEST(ImageMethods, EmbedBatchesAndHashDistanceIsHamming) {
  const std::vector<cv::Mat> images = {scene(1), scene(2)};
  for (const ImageMethod& m : classical_image_methods()) {
    SCOPED_TRACE(m.name);
    std::vector<float> out(2 * size_t(m.dim));
    m.embed(images, out);
    const std::span<const float> a(out.data(), size_t(m.dim)), b(out.data() + m.dim, size_t(m.dim));
    EXPECT_EQ(m.distance(a, a), 0.0f);
    EXPECT_GT(m.distance(a, b), 0.0f);
  }
  const ImageMethod p = phash_method();
  std::vector<float> out(128);
  p.embed(images, out);
  EXPECT_EQ(p.distance(std::span(out).first(64), std::span(out).last(64)),
            float(hamming_distance(phash64(images[0]), phash64(images[1]))));
}

}  // namespace
}  // namespace doppel
