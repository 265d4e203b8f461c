#include "image/image_io.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <filesystem>

#include "image/image_test_util.h"
#include "util/error.h"
#include "util/expect_error.h"
#include "util/files.h"

namespace doppel {
namespace {

using testing::as_bytes;
using testing::encode;
using ::testing::HasSubstr;

const cv::Vec3b kRed(255, 0, 0), kBlue(0, 0, 255), kWhite(255, 255, 255);

// A width × height red image with a blue top-left corner block.
cv::Mat marked(int width, int height) {
  cv::Mat img(height, width, CV_8UC3, cv::Scalar(255, 0, 0));
  img(cv::Rect(0, 0, width / 4, height / 4)).setTo(cv::Scalar(0, 0, 255));
  return img;
}

bool near(const cv::Vec3b& a, const cv::Vec3b& b, int tolerance = 12) {
  for (int c = 0; c < 3; ++c) {
    if (std::abs(int(a[c]) - int(b[c])) > tolerance) return false;
  }
  return true;
}

// Inserts an APP1 EXIF segment holding only the Orientation tag right after the SOI marker.
std::string with_exif_orientation(const std::string& jpeg, int orientation) {
  const std::string tiff = {'I',
                            'I',
                            42,
                            0,
                            8,
                            0,
                            0,
                            0,  // little-endian, IFD at 8
                            1,
                            0,  // one entry
                            0x12,
                            0x01,
                            3,
                            0,
                            1,
                            0,
                            0,
                            0,  // 0x0112 SHORT × 1
                            char(orientation),
                            0,
                            0,
                            0,
                            0,
                            0,
                            0,
                            0};  // value, no next IFD
  const std::string body = std::string("Exif\0\0", 6) + tiff;
  const size_t length = body.size() + 2;
  const std::string app1 =
      std::string{'\xFF', '\xE1', char(length >> 8), char(length & 0xFF)} + body;
  return jpeg.substr(0, 2) + app1 + jpeg.substr(2);
}

cv::Mat decode(const std::string& bytes, const DecodeOptions& options = {}) {
  return decode_image(as_bytes(bytes), "mem.img", options);
}

TEST(DecodeImage, JpegPngWebpBecomeRgb) {
  const cv::Mat img = marked(40, 20);
  for (const std::string ext : {".jpg", ".png", ".webp"}) {
    SCOPED_TRACE(ext);
    const cv::Mat out = decode(encode(img, ext));
    ASSERT_EQ(out.type(), CV_8UC3);
    ASSERT_EQ(out.size(), img.size());
    EXPECT_TRUE(near(out.at<cv::Vec3b>(2, 2), kBlue));  // channel order is RGB
    EXPECT_TRUE(near(out.at<cv::Vec3b>(15, 35), kRed));
  }
}

TEST(InspectImage, ReadsSizeOfEveryContainerKind) {
  const cv::Mat img = marked(40, 20);
  cv::Mat rgba;
  cv::cvtColor(img, rgba, cv::COLOR_RGB2RGBA);
  struct Case {
    std::string bytes;
    ImageFormat format;
  } cases[] = {
      {encode(img, ".jpg"), ImageFormat::kJpeg},
      {encode(img, ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}), ImageFormat::kJpeg},
      {encode(img, ".png"), ImageFormat::kPng},
      {encode(img, ".webp", {cv::IMWRITE_WEBP_QUALITY, 80}), ImageFormat::kWebp},   // VP8
      {encode(img, ".webp", {cv::IMWRITE_WEBP_QUALITY, 101}), ImageFormat::kWebp},  // VP8L
      {encode(rgba, ".webp", {cv::IMWRITE_WEBP_QUALITY, 80}), ImageFormat::kWebp},  // VP8X
  };
  for (const auto& c : cases) {
    const ImageHeader h = inspect_image(as_bytes(c.bytes), "x");
    EXPECT_EQ(h.format, c.format);
    EXPECT_EQ(h.width, 40);
    EXPECT_EQ(h.height, 20);
  }
}

TEST(DecodeImage, GreyBecomesThreeEqualChannels) {
  cv::Mat grey(10, 12, CV_8UC1, cv::Scalar(77));
  for (const std::string ext : {".png", ".jpg"}) {
    const cv::Mat out = decode(encode(grey, ext));
    ASSERT_EQ(out.type(), CV_8UC3);
    EXPECT_TRUE(near(out.at<cv::Vec3b>(5, 5), cv::Vec3b(77, 77, 77), 2));
  }
}

TEST(DecodeImage, AlphaIsCompositedOverBackground) {
  cv::Mat rgba(8, 8, CV_8UC4, cv::Scalar(255, 0, 0, 255));       // opaque red
  rgba(cv::Rect(0, 0, 4, 8)).setTo(cv::Scalar(0, 0, 0, 0));      // transparent left half
  rgba(cv::Rect(4, 0, 2, 8)).setTo(cv::Scalar(0, 0, 255, 128));  // half-transparent blue
  const cv::Mat out = decode(encode(rgba, ".png"));
  EXPECT_EQ(out.at<cv::Vec3b>(0, 0), kWhite);
  EXPECT_TRUE(near(out.at<cv::Vec3b>(0, 4), cv::Vec3b(127, 127, 255), 2));
  EXPECT_EQ(out.at<cv::Vec3b>(0, 7), kRed);
  DecodeOptions black;
  black.background = cv::Scalar(0, 0, 0);
  EXPECT_EQ(decode(encode(rgba, ".png"), black).at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 0));
}

TEST(DecodeImage, SixteenBitPngIsScaledToEightBits) {
  cv::Mat deep(4, 4, CV_16UC3, cv::Scalar(65535, 32896, 0));
  const cv::Mat out = decode(encode(deep, ".png"));
  ASSERT_EQ(out.type(), CV_8UC3);
  EXPECT_EQ(out.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 128, 0));  // 65535 / 257, 32896 / 257
}

TEST(DecodeImage, ExifOrientationIsApplied) {
  // Stored 40×20 with the blue block top-left; orientation 6 means "rotate 90° clockwise to
  // display", so the upright image is 20×40 with the block top-right.
  const std::string jpeg = with_exif_orientation(encode(marked(40, 20), ".jpg"), 6);
  const ImageHeader h = inspect_image(as_bytes(jpeg), "x");
  EXPECT_EQ(h.width, 40);       // the header reports the stored size
  for (int target : {0, 10}) {  // full size and reduced (1/2) decoding both honour it
    DecodeOptions options;
    options.target_size = target;
    const cv::Mat out = decode(jpeg, options);
    const int scale = target == 0 ? 1 : 2;
    ASSERT_EQ(out.cols, 20 / scale);
    ASSERT_EQ(out.rows, 40 / scale);
    EXPECT_TRUE(near(out.at<cv::Vec3b>(1, out.cols - 2), kBlue));
    EXPECT_TRUE(near(out.at<cv::Vec3b>(1, 1), kRed));
  }
}

TEST(DecodeImage, LargeJpegIsDecodedAtReducedSize) {
  const std::string jpeg = encode(marked(1600, 1200), ".jpg");
  auto decoded_size = [&](int target) {
    DecodeOptions options;
    options.target_size = target;
    return decode(jpeg, options).size();
  };
  EXPECT_EQ(decoded_size(0), cv::Size(1600, 1200));
  EXPECT_EQ(decoded_size(224), cv::Size(400, 300));    // 1/4: shorter side 300 >= 224 > 150
  EXPECT_EQ(decoded_size(100), cv::Size(200, 150));    // 1/8 is the largest reduction
  EXPECT_EQ(decoded_size(700), cv::Size(1600, 1200));  // 600 < 700: full size
  // Other formats are always decoded at full size.
  DecodeOptions options;
  options.target_size = 64;
  EXPECT_EQ(decode(encode(marked(400, 300), ".png"), options).size(), cv::Size(400, 300));
}

TEST(DecodeImage, BytesAfterJpegEndAreIgnored) {
  const std::string jpeg = encode(marked(40, 20), ".jpg") + "trailing junk";
  EXPECT_EQ(decode(jpeg).size(), cv::Size(40, 20));
}

TEST(DecodeImage, BrokenInputsAreErrorsNamingSourceAndReason) {
  const std::string jpeg = encode(marked(64, 48), ".jpg");
  const std::string png = encode(marked(64, 48), ".png");
  const std::string webp = encode(marked(64, 48), ".webp");
  expect_error([&] { decode(""); }, {"mem.img", "empty"});
  expect_error([&] { decode(jpeg.substr(0, jpeg.size() / 2)); }, {"mem.img", "truncated JPEG"});
  expect_error([&] { decode(jpeg.substr(0, jpeg.size() - 2)); }, {"truncated JPEG", "FFD9"});
  expect_error([&] { decode(jpeg.substr(0, 3)); }, {"truncated JPEG"});
  expect_error([&] { decode(png.substr(0, png.size() - 12)); }, {"mem.img", "truncated PNG"});
  expect_error([&] { decode(png.substr(0, 20)); }, {"truncated PNG"});
  expect_error([&] { decode(webp.substr(0, webp.size() - 10)); }, {"mem.img", "truncated WebP"});
  expect_error([&] { decode("GIF89a\x01\x00\x01\x00"); }, {"mem.img", "unsupported", "GIF"});
  expect_error([&] { decode("<html>not found</html>"); }, {"unsupported", "HTML"});
  expect_error([&] { decode("\x01\x02\x03 random"); }, {"unsupported image format (unknown)"});

  std::string corrupt = png;  // complete chunks, damaged pixel data
  for (size_t i = 60; i < 80; ++i) corrupt[i] = char(~corrupt[i]);
  expect_error([&] { decode(corrupt); }, {"mem.img", "corrupt PNG"});

  std::string zero = png;  // IHDR width := 0
  zero[16] = zero[17] = zero[18] = zero[19] = 0;
  expect_error([&] { decode(zero); }, {"mem.img", "zero-size"});

  DecodeOptions small;
  small.max_pixels = 1000;
  expect_error([&] { decode(png, small); }, {"mem.img", "too large", "64×48"});
}

TEST(EncodeImage, RoundTripsAndNamesAFormatItCannotWrite) {
  const cv::Mat image = marked(40, 20);
  EXPECT_EQ(decode(encode(image, ".png")).size(), cv::Size(40, 20));
  EXPECT_EQ(cv::norm(decode(encode(image, ".png")), image, cv::NORM_INF), 0);  // lossless, RGB kept
  expect_error([&] { encode_image(image, ".nosuchformat"); }, {"40×20", ".nosuchformat"});
  expect_error([&] { encode_image(cv::Mat(2, 2, CV_8UC2), ".png"); }, {"2 channels"});
}

TEST(LoadImage, ReadsFileAndNamesMissingPath) {
  const auto dir = std::filesystem::temp_directory_path() / "doppel_image_io_test";
  std::filesystem::create_directories(dir);
  write_file_atomic(dir / "a.png", encode(marked(40, 20), ".png"));
  EXPECT_EQ(load_image(dir / "a.png").size(), cv::Size(40, 20));
  expect_error([&] { load_image(dir / "missing.jpg"); }, {(dir / "missing.jpg").string()});
  write_file_atomic(dir / "cut.png", encode(marked(40, 20), ".png").substr(0, 50));
  expect_error([&] { load_image(dir / "cut.png"); }, {(dir / "cut.png").string(), "truncated"});
}

TEST(Resize, LetterboxKeepsAspectAndPads) {
  const cv::Mat wide(50, 100, CV_8UC3, cv::Scalar(255, 0, 0));
  const cv::Mat box = resize_letterbox(wide, 64, cv::Scalar(1, 2, 3));
  ASSERT_EQ(box.size(), cv::Size(64, 64));
  EXPECT_EQ(box.at<cv::Vec3b>(0, 32), cv::Vec3b(1, 2, 3));   // padding above
  EXPECT_EQ(box.at<cv::Vec3b>(63, 32), cv::Vec3b(1, 2, 3));  // and below
  EXPECT_EQ(box.at<cv::Vec3b>(32, 0), kRed);                 // full width used
  EXPECT_EQ(box.at<cv::Vec3b>(16, 63), kRed);                // image rows 16..47
  EXPECT_EQ(box.at<cv::Vec3b>(15, 63), cv::Vec3b(1, 2, 3));

  EXPECT_EQ(resize_square(wide, 30).size(), cv::Size(30, 30));
  EXPECT_EQ(resize_to(wide, 200, 100).size(), cv::Size(200, 100));
}

TEST(Resize, CenterSquareIsTheMiddle) {
  cv::Mat wide(50, 100, CV_8UC3, cv::Scalar(0, 0, 0));
  wide(cv::Rect(25, 0, 50, 50)).setTo(cv::Scalar(255, 0, 0));
  const cv::Mat square = center_square(wide);
  ASSERT_EQ(square.size(), cv::Size(50, 50));
  EXPECT_EQ(cv::countNonZero(square.reshape(1) == 255), 50 * 50);
}

}  // namespace
}  // namespace doppel
