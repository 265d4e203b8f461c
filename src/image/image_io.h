// Image input: the bytes of a JPEG, PNG or WebP file become an RGB, 8-bit, 3-channel cv::Mat,
// the one pixel layout every other piece of the image module (patch selection, classical
// features, the ViT-MAE encoder) works on. OpenCV's codecs behind it load on the first image
// decoded or encoded (image_codecs.h).
//
// What decoding guarantees:
// - EXIF orientation of a JPEG is applied (OpenCV's IMREAD_COLOR does it), so a phone photo
//   taken on its side comes out upright.
// - Grey images become three equal channels; an alpha channel (PNG, WebP) is composited over
//   DecodeOptions::background; 16-bit PNGs are scaled to 8 bits.
// - A broken input is a doppel::Error that names the source and the reason, never a crash and
//   never a silently half-filled picture: the container is walked before decoding, so a JPEG
//   without its end-of-image marker or a PNG without IEND is reported as truncated (OpenCV would
//   otherwise return the missing rows as filler pixels and report success).
// - A large JPEG is decoded at 1/2, 1/4 or 1/8 scale when DecodeOptions::target_size says the
//   caller needs far fewer pixels (libjpeg skips the work in the DCT; see docs/images.md).
// libjpeg may still print a "Corrupt JPEG data" warning to stderr for a damaged but complete file;
// OpenCV offers no hook to silence it.
#pragma once

#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

namespace doppel {

enum class ImageFormat { kJpeg, kPng, kWebp };

std::string_view format_name(ImageFormat format);  // "JPEG", "PNG", "WebP"

// What the container says, read without decoding any pixels. Width and height are as stored,
// before EXIF orientation (a rotation by 90° swaps them in the decoded image).
struct ImageHeader {
  ImageFormat format = ImageFormat::kJpeg;
  int width = 0;
  int height = 0;
};

// Reads format and size from the header and checks that the file is complete: a JPEG's marker
// segments lead to an end-of-image marker (bytes after it are ignored), a PNG's chunks reach IEND,
// a WebP's RIFF size fits in the bytes. Throws doppel::Error naming source_name for empty,
// truncated or corrupt bytes, an unsupported format (GIF, BMP, TIFF, HEIC, ... are named) and a
// zero width or height. Linear in the size of the bytes and far cheaper than decoding.
ImageHeader inspect_image(std::span<const std::byte> bytes, std::string_view source_name);

struct DecodeOptions {
  // The shorter side, in pixels, the caller will resize to. When > 0, a JPEG whose shorter side is
  // at least 2×, 4× or 8× this is decoded at that reduced scale (never below target_size).
  // 0 decodes at full size.
  int target_size = 0;
  // Images with more pixels are refused before decoding (a 100 kB file can claim 60000×60000).
  int64_t max_pixels = 100'000'000;
  // RGB colour that transparent pixels are composited over (white, like a catalogue page).
  cv::Scalar background{255, 255, 255};

  void validate() const;  // Error naming the field and value
};

// Decodes `bytes` into an RGB 8-bit 3-channel image (CV_8UC3, rows × cols ≥ 1). source_name (a
// path or URL) is only used in error messages.
cv::Mat decode_image(std::span<const std::byte> bytes, std::string_view source_name,
                     const DecodeOptions& options = {});

// Loads the codecs now (they load on first use otherwise): Error when they cannot be. For loops
// that count an image that fails to decode and go on, so that a missing codecs plugin stops them
// instead of making every image unreadable.
void require_image_codecs();

// Reads and decodes a file; a missing or unreadable file is a doppel::Error naming the path.
cv::Mat load_image(const std::filesystem::path& path, const DecodeOptions& options = {});

// Encodes an RGB, RGBA or grey image (8-bit; PNG also takes 16) as the bytes of an `ext` file
// (".jpg", ".png", ".webp"), with OpenCV's encoder parameters (e.g. {cv::IMWRITE_JPEG_QUALITY,
// 90}). Error naming the format when the encoder refuses.
std::vector<unsigned char> encode_image(const cv::Mat& image, std::string_view ext,
                                        const std::vector<int>& params = {});

// Resizes to exactly width × height: INTER_AREA when shrinking (it averages, so no aliasing),
// INTER_LINEAR when enlarging. The aspect ratio is not kept.
cv::Mat resize_to(const cv::Mat& image, int width, int height);

// size × size, aspect ratio kept: the image is scaled so its longer side is `size` and centred
// on a `fill` background (colour in the image's channel order).
cv::Mat resize_letterbox(const cv::Mat& image, int size, cv::Scalar fill);

// size × size, aspect ratio not kept (a stretched copy).
cv::Mat resize_square(const cv::Mat& image, int size);

// The largest centred square of the image (a view sharing its pixels, not a copy).
cv::Mat center_square(const cv::Mat& image);

}  // namespace doppel
