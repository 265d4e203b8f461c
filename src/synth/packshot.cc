#include "synth/packshot.h"

#include <opencv2/imgcodecs.hpp>  // the encoder parameters
#include <opencv2/imgproc.hpp>

#include <array>
#include <cmath>
#include <random>
#include <string_view>

#include "image/augment.h"
#include "image/image_io.h"
#include "util/error.h"
#include "util/hash.h"

namespace doppel {
namespace {

// A vivid RGB colour from a hash: hue from its bits, saturation and value kept high enough that
// brands stay apart.
cv::Scalar colour_of(uint64_t h, int min_saturation = 140) {
  const cv::Mat hsv(1, 1, CV_8UC3,
                    cv::Scalar(double(h % 180), double(min_saturation + (h >> 8) % 100),
                               double(150 + (h >> 16) % 100)));
  cv::Mat rgb;
  cv::cvtColor(hsv, rgb, cv::COLOR_HSV2RGB);
  const auto p = rgb.at<cv::Vec3b>(0, 0);
  return {double(p[0]), double(p[1]), double(p[2])};
}

cv::Scalar body_colour(const PackshotSpec& spec) {
  static const std::array<std::pair<std::string_view, cv::Scalar>, 6> kNamed = {{
      {"Black", {30, 30, 32}},
      {"White", {236, 236, 232}},
      {"Blue", {40, 80, 200}},
      {"Red", {200, 40, 40}},
      {"Silver", {180, 182, 190}},
      {"Midnight", {25, 30, 62}},
  }};
  for (const auto& [name, rgb] : kNamed)
    if (spec.colour == name) return rgb;
  return colour_of(fnv1a64(spec.name, fnv1a64(spec.brand)), 60);
}

// The text at the largest Hershey scale (up to max_scale) that fits `width`, centred on x.
void centred_text(cv::Mat& image, const std::string& text, int centre_x, int baseline_y, int width,
                  double max_scale, const cv::Scalar& colour) {
  const int font = cv::FONT_HERSHEY_SIMPLEX;
  int base = 0;
  const cv::Size at_one = cv::getTextSize(text, font, 1.0, 1, &base);
  const double scale = std::min(max_scale, double(width) / std::max(1, at_one.width));
  const int thickness = scale > 0.6 ? 2 : 1;
  const cv::Size size = cv::getTextSize(text, font, scale, thickness, &base);
  cv::putText(image, text, {centre_x - size.width / 2, baseline_y}, font, scale, colour, thickness,
              cv::LINE_AA);
}

void draw_logo(cv::Mat& image, uint64_t brand_hash, cv::Point centre, int r, const cv::Scalar& c) {
  switch (brand_hash % 4) {
    case 0:
      cv::circle(image, centre, r, c, cv::FILLED, cv::LINE_AA);
      break;
    case 1: {
      const std::vector<cv::Point> triangle = {
          {centre.x, centre.y - r}, {centre.x - r, centre.y + r}, {centre.x + r, centre.y + r}};
      cv::fillConvexPoly(image, triangle, c, cv::LINE_AA);
      break;
    }
    case 2: {
      std::vector<cv::Point> star;
      for (int k = 0; k < 10; ++k) {
        const double a = CV_PI / 5 * k - CV_PI / 2, rk = k % 2 ? r * 0.45 : r;
        star.emplace_back(centre.x + int(rk * std::cos(a)), centre.y + int(rk * std::sin(a)));
      }
      cv::fillPoly(image, std::vector<std::vector<cv::Point>>{star}, c, cv::LINE_AA);
      break;
    }
    default: {
      const std::vector<cv::Point> diamond = {{centre.x, centre.y - r},
                                              {centre.x + r, centre.y},
                                              {centre.x, centre.y + r},
                                              {centre.x - r, centre.y}};
      cv::fillConvexPoly(image, diamond, c, cv::LINE_AA);
    }
  }
}

// photo += noise (CV_32FC3), saturating to [0, 255].
void add_noise(cv::Mat& photo, const cv::Mat& noise) {
  cv::Mat sum;
  photo.convertTo(sum, CV_32FC3);
  sum += noise;
  sum.convertTo(photo, CV_8UC3);
}

}  // namespace

cv::Mat render_packshot(const PackshotSpec& spec, int side) {
  DOPPEL_CHECK(side >= 64, "packshot side {} < 64", side);
  cv::Mat image(side, side, CV_8UC3, cv::Scalar(255, 255, 255));
  const uint64_t brand_hash = fnv1a64(spec.brand);
  const cv::Scalar body = body_colour(spec), brand = colour_of(brand_hash);
  const double luma = 0.299 * body[0] + 0.587 * body[1] + 0.114 * body[2];
  const cv::Scalar ink = luma > 128 ? cv::Scalar(20, 20, 20) : cv::Scalar(245, 245, 245);
  const double s = side / 160.0;  // shapes are laid out on a 160-pixel canvas
  auto px = [s](double v) { return int(std::lround(v * s)); };
  // The package: its outline by kind, the brand band across its upper part.
  cv::Rect body_rect(px(38), px(26), px(84), px(120));
  switch (fnv1a64(spec.kind) % 5) {
    case 0:  // box
      body_rect = {px(28), px(30), px(104), px(112)};
      cv::rectangle(image, body_rect, body, cv::FILLED);
      break;
    case 1:  // bottle: neck and cap above the body
      body_rect = {px(44), px(44), px(72), px(104)};
      cv::rectangle(image, {px(66), px(18), px(28), px(28)}, body, cv::FILLED);
      cv::rectangle(image, {px(63), px(10), px(34), px(10)}, brand, cv::FILLED);
      cv::rectangle(image, body_rect, body, cv::FILLED);
      break;
    case 2: {  // carton with a gable top
      body_rect = {px(40), px(40), px(80), px(108)};
      cv::rectangle(image, body_rect, body, cv::FILLED);
      const std::vector<cv::Point> gable = {{px(40), px(40)}, {px(80), px(14)}, {px(120), px(40)}};
      cv::fillConvexPoly(image, gable, body * 0.85, cv::LINE_AA);
      break;
    }
    case 3:  // can: rims above and below
      body_rect = {px(40), px(30), px(80), px(110)};
      cv::rectangle(image, body_rect, body, cv::FILLED);
      cv::ellipse(image, {px(80), px(30)}, {px(40), px(9)}, 0, 0, 360, body * 0.8, cv::FILLED);
      cv::ellipse(image, {px(80), px(140)}, {px(40), px(9)}, 0, 0, 180, body, cv::FILLED);
      break;
    default:  // device: a dark screen inside the body
      cv::rectangle(image, body_rect, body, cv::FILLED);
      cv::rectangle(image, {px(46), px(52), px(68), px(58)}, cv::Scalar(18, 22, 30), cv::FILLED);
      break;
  }
  const cv::Rect band(body_rect.x, body_rect.y + px(6), body_rect.width, px(26));
  cv::rectangle(image, band, brand, cv::FILLED);
  draw_logo(image, brand_hash >> 3, {band.x + px(11), band.y + band.height / 2}, px(8),
            cv::Scalar(255, 255, 255) - brand);
  centred_text(image, spec.brand, band.x + band.width / 2 + px(8), band.y + px(18),
               band.width - px(24), 0.6 * s, cv::Scalar(255, 255, 255));
  const int text_x = body_rect.x + body_rect.width / 2, text_w = body_rect.width - px(8);
  centred_text(image, spec.name, text_x, body_rect.y + body_rect.height - px(22), text_w, 0.45 * s,
               ink);
  centred_text(image, spec.size, text_x, body_rect.y + body_rect.height - px(6), text_w, 0.5 * s,
               ink);
  return image;
}

std::vector<unsigned char> seller_photo_jpeg(const cv::Mat& packshot, uint64_t seed) {
  DOPPEL_CHECK(!packshot.empty() && packshot.type() == CV_8UC3, "packshot type {}",
               packshot.type());
  std::mt19937_64 rng(seed);
  cv::RNG noise_rng(rng());  // OpenCV's own generator for noise images, seeded here too
  std::uniform_real_distribution<double> u(0, 1);
  const int side = packshot.cols;
  // Background: plain, a vertical gradient between two colours, or plain with coarse noise.
  const cv::Scalar a = colour_of(rng(), 0), b = colour_of(rng(), 0);
  cv::Mat photo(side, side, CV_8UC3, a);
  const double style = u(rng);
  if (style < 1.0 / 3) {
    for (int y = 0; y < side; ++y) photo.row(y).setTo(a + (b - a) * (double(y) / side));
  } else if (style < 2.0 / 3) {
    cv::Mat texture(side / 8, side / 8, CV_32FC3);
    noise_rng.fill(texture, cv::RNG::NORMAL, 0, 25);
    cv::resize(texture, texture, photo.size(), 0, 0, cv::INTER_LINEAR);
    add_noise(photo, texture);
  }
  // The product, scaled, rotated and shifted; its studio white left out.
  const double scale = 0.55 + 0.4 * u(rng), angle = -18 + 36 * u(rng);
  const double room = (1 - scale) * side * 0.4;
  cv::Mat m = cv::getRotationMatrix2D({side / 2.0f, side / 2.0f}, angle, scale);
  m.at<double>(0, 2) += room * (2 * u(rng) - 1);
  m.at<double>(1, 2) += room * (2 * u(rng) - 1);
  cv::Mat mask, moved, moved_mask;
  cv::inRange(packshot, cv::Scalar::all(0), cv::Scalar::all(249), mask);  // not studio white
  cv::warpAffine(packshot, moved, m, photo.size(), cv::INTER_LINEAR);
  cv::warpAffine(mask, moved_mask, m, photo.size(), cv::INTER_NEAREST);
  moved.copyTo(photo, moved_mask);
  // The seller's camera: crop and colours, sensor noise, sometimes a soft focus.
  AugmentOptions camera;
  camera.min_crop_area = 0.7;
  camera.max_aspect = 1.15;
  camera.flip = false;
  camera.brightness = camera.contrast = camera.saturation = 0.25;
  photo = augment_image(photo, camera, rng());
  cv::resize(photo, photo, {side, side}, 0, 0, cv::INTER_AREA);
  cv::Mat noise(photo.size(), CV_32FC3);
  noise_rng.fill(noise, cv::RNG::NORMAL, 0, 10 * u(rng));
  add_noise(photo, noise);
  if (u(rng) < 0.3) cv::GaussianBlur(photo, photo, {3, 3}, 0);
  const int quality = 35 + int(rng() % 61);
  return encode_image(photo, ".jpg", {cv::IMWRITE_JPEG_QUALITY, quality});
}

}  // namespace doppel
