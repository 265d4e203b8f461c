// Rendered product images for synthetic catalogs: a studio "packshot" per product, drawn from
// what the product is (so that variants of one line look alike and differ in their details, as
// real variants do), and per listing a seller's photo of it.
//
// Packshot: the package shape follows the product kind (box, bottle, carton, can, device), its
// body colour the product's colour name (or the line), a band in the brand's colour with the brand
// name drawn on it (cv::putText), a logo-like shape chosen by the brand, the line name and the
// size printed below. Everything is a function of the spec's strings (FNV-1a hashes), not of a
// random generator: one product, one packshot.
// Seller photo: the packshot scaled (0.55–0.95), rotated (±18°) and shifted onto a background
// (plain, gradient or noisy), then augment_image's crop and colour jitter (no mirroring: the text
// would read backwards), sensor noise and a blur sometimes; written as JPEG at quality 35–95.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace doppel {

struct PackshotSpec {
  std::string brand;   // "Samsung"
  std::string name;    // the product line, "Galaxy S21 Gen 2"
  std::string kind;    // what it is, "Smartphone": picks the shape
  std::string size;    // the variant, "128GB"
  std::string colour;  // an English colour name ("Black", "Silver"...) or "" for the line's own
};

// An RGB CV_8UC3 image of side `side` (>= 64) on a white studio background.
cv::Mat render_packshot(const PackshotSpec& spec, int side);

// A seller's photo of `packshot` (same side), as JPEG bytes; the seed picks every variation.
std::vector<unsigned char> seller_photo_jpeg(const cv::Mat& packshot, uint64_t seed);

}  // namespace doppel
