#include "image/image_io.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "image/image_codecs.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {
namespace {

// Bounds-checked big/little-endian reads from the undecoded bytes; `ok` turns false on overrun.
class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> bytes) : bytes_(bytes) {}
  size_t size() const { return bytes_.size(); }
  bool has(size_t pos, size_t n) const { return pos <= bytes_.size() && n <= bytes_.size() - pos; }
  uint32_t u8(size_t pos) const { return std::to_integer<uint32_t>(bytes_[pos]); }
  uint32_t be16(size_t pos) const { return u8(pos) << 8 | u8(pos + 1); }
  uint32_t be32(size_t pos) const { return be16(pos) << 16 | be16(pos + 2); }
  uint32_t le16(size_t pos) const { return u8(pos) | u8(pos + 1) << 8; }
  uint32_t le24(size_t pos) const { return le16(pos) | u8(pos + 2) << 16; }
  uint32_t le32(size_t pos) const { return le16(pos) | le16(pos + 2) << 16; }
  bool starts_with(size_t pos, std::string_view magic) const {
    return has(pos, magic.size()) &&
           std::memcmp(bytes_.data() + pos, magic.data(), magic.size()) == 0;
  }

 private:
  std::span<const std::byte> bytes_;
};

[[noreturn]] void truncated(std::string_view source, ImageFormat format, std::string_view what) {
  fail("{}: truncated {} file: {}", source, format_name(format), what);
}

// Walks the JPEG marker segments (skipping entropy-coded scan data) up to the EOI marker.
ImageHeader inspect_jpeg(const ByteReader& r, std::string_view source) {
  ImageHeader h{ImageFormat::kJpeg, 0, 0};
  bool have_frame = false;
  size_t pos = 2;
  for (;;) {
    if (!r.has(pos, 2)) truncated(source, h.format, "no end-of-image marker (FFD9)");
    if (r.u8(pos) != 0xFF) {  // stray bytes between segments: libjpeg skips them, so do we
      ++pos;
      continue;
    }
    const uint32_t marker = r.u8(pos + 1);
    if (marker == 0xFF) {  // fill byte before a marker
      ++pos;
      continue;
    }
    if (marker == 0xD9) break;                                   // EOI
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {  // markers without a length
      pos += 2;
      continue;
    }
    if (!r.has(pos + 2, 2)) truncated(source, h.format, "segment header cut off");
    const size_t length = r.be16(pos + 2);
    if (length < 2) fail("{}: corrupt JPEG: segment length {} at byte {}", source, length, pos);
    if (!r.has(pos + 2, length)) truncated(source, h.format, "segment cut off");
    const bool frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
                       marker != 0xCC;  // SOFn; C4 DHT, C8 JPG and CC DAC are not frames
    if (frame) {
      if (length < 7) fail("{}: corrupt JPEG: frame header too short", source);
      h.height = static_cast<int>(r.be16(pos + 5));
      h.width = static_cast<int>(r.be16(pos + 7));
      have_frame = true;
    }
    pos += 2 + length;
    if (marker == 0xDA) {  // SOS: entropy-coded data runs to the next marker other than RSTn
      if (!have_frame) fail("{}: corrupt JPEG: scan before frame header", source);
      while (r.has(pos, 2) && !(r.u8(pos) == 0xFF && r.u8(pos + 1) != 0 &&
                                !(r.u8(pos + 1) >= 0xD0 && r.u8(pos + 1) <= 0xD7))) {
        ++pos;
      }
    }
  }
  if (!have_frame) fail("{}: corrupt JPEG: no frame header", source);
  return h;
}

// Walks the PNG chunks from IHDR to IEND (CRCs are left to libpng).
ImageHeader inspect_png(const ByteReader& r, std::string_view source) {
  ImageHeader h{ImageFormat::kPng, 0, 0};
  if (!r.has(8, 8 + 13)) truncated(source, h.format, "no IHDR chunk");
  if (!r.starts_with(12, "IHDR")) fail("{}: corrupt PNG: first chunk is not IHDR", source);
  const uint32_t width = r.be32(16), height = r.be32(20);
  if (width > INT32_MAX || height > INT32_MAX) {
    fail("{}: corrupt PNG: size {}×{}", source, width, height);
  }
  h.width = static_cast<int>(width);
  h.height = static_cast<int>(height);
  size_t pos = 8;
  for (;;) {
    if (!r.has(pos, 8)) truncated(source, h.format, "no IEND chunk");
    const size_t length = r.be32(pos);
    if (r.starts_with(pos + 4, "IEND")) break;
    if (!r.has(pos + 8, length) || !r.has(pos + 8 + length, 4)) {
      truncated(source, h.format, "chunk cut off");
    }
    pos += 12 + length;
  }
  return h;
}

ImageHeader inspect_webp(const ByteReader& r, std::string_view source) {
  ImageHeader h{ImageFormat::kWebp, 0, 0};
  const size_t riff_size = r.le32(4);
  if (!r.has(0, 8 + riff_size)) truncated(source, h.format, "shorter than its RIFF size");
  if (!r.has(12, 18)) truncated(source, h.format, "no image chunk");
  if (r.starts_with(12, "VP8 ")) {  // lossy: frame tag (3), start code 9D 01 2A, 14-bit sizes
    if (r.u8(23) != 0x9D || r.u8(24) != 0x01 || r.u8(25) != 0x2A) {
      fail("{}: corrupt WebP: bad VP8 start code", source);
    }
    h.width = static_cast<int>(r.le16(26) & 0x3FFF);
    h.height = static_cast<int>(r.le16(28) & 0x3FFF);
  } else if (r.starts_with(12, "VP8L")) {  // lossless: signature 0x2F, 14-bit (size - 1) fields
    if (r.u8(20) != 0x2F) fail("{}: corrupt WebP: bad VP8L signature", source);
    const uint32_t bits = r.le32(21);
    h.width = static_cast<int>((bits & 0x3FFF) + 1);
    h.height = static_cast<int>(((bits >> 14) & 0x3FFF) + 1);
  } else if (r.starts_with(12, "VP8X")) {  // extended: 24-bit (canvas size - 1) fields
    h.width = static_cast<int>(r.le24(24) + 1);
    h.height = static_cast<int>(r.le24(27) + 1);
  } else {
    fail("{}: corrupt WebP: unknown first chunk", source);
  }
  return h;
}

// Names the formats people are likely to hand us by mistake, for a useful error.
std::string_view other_format_name(const ByteReader& r) {
  if (r.starts_with(0, "GIF8")) return "GIF";
  if (r.starts_with(0, "BM")) return "BMP";
  if (r.starts_with(0, std::string_view("II*\0", 4)) ||
      r.starts_with(0, std::string_view("MM\0*", 4)))
    return "TIFF";
  if (r.starts_with(4, "ftypheic") || r.starts_with(4, "ftypheix") ||
      r.starts_with(4, "ftypmif1")) {
    return "HEIC/HEIF";
  }
  if (r.starts_with(4, "ftypavif")) return "AVIF";
  if (r.starts_with(0, "<") || r.starts_with(0, "\xEF\xBB\xBF<")) return "HTML/XML text";
  return "unknown";
}

// 1, 2, 4 or 8: the largest JPEG scale-down that keeps the shorter side >= target_size.
int jpeg_reduction(const ImageHeader& h, int target_size) {
  if (h.format != ImageFormat::kJpeg || target_size <= 0) return 1;
  const int shorter = std::min(h.width, h.height);
  int factor = 1;
  while (factor < 8 && shorter / (factor * 2) >= target_size) factor *= 2;
  return factor;
}

int jpeg_flags(int reduction) {
  switch (reduction) {
    case 2:
      return cv::IMREAD_REDUCED_COLOR_2;
    case 4:
      return cv::IMREAD_REDUCED_COLOR_4;
    case 8:
      return cv::IMREAD_REDUCED_COLOR_8;
    default:
      return cv::IMREAD_COLOR;
  }
}

// Any decoded layout (1/3/4 channels, 8/16 bit, BGR order) to RGB 8-bit 3-channel.
cv::Mat to_rgb8(cv::Mat decoded, const cv::Scalar& background, std::string_view source) {
  if (decoded.depth() == CV_16U) {
    decoded.convertTo(decoded, CV_8U, 1.0 / 257.0);
  } else if (decoded.depth() != CV_8U) {
    fail("{}: unsupported pixel depth (OpenCV depth {})", source, decoded.depth());
  }
  cv::Mat rgb;
  switch (decoded.channels()) {
    case 1:
      cv::cvtColor(decoded, rgb, cv::COLOR_GRAY2RGB);
      return rgb;
    case 3:
      cv::cvtColor(decoded, rgb, cv::COLOR_BGR2RGB);
      return rgb;
    case 4: {
      cv::Mat bgra_f, alpha;
      decoded.convertTo(bgra_f, CV_32F, 1.0 / 255.0);
      std::vector<cv::Mat> planes;
      cv::split(bgra_f, planes);
      alpha = planes[3];
      cv::Mat inverse = 1.0 - alpha;
      // planes are B, G, R; background is given as RGB.
      for (int c = 0; c < 3; ++c) {
        planes[c] = planes[c].mul(alpha) + inverse * (background[2 - c] / 255.0);
      }
      planes.pop_back();
      cv::Mat bgr_f, bgr;
      cv::merge(planes, bgr_f);
      bgr_f.convertTo(bgr, CV_8U, 255.0);
      cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
      return rgb;
    }
    default:
      fail("{}: unsupported channel count {}", source, decoded.channels());
  }
}

}  // namespace

std::string_view format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "JPEG";
    case ImageFormat::kPng:
      return "PNG";
    case ImageFormat::kWebp:
      return "WebP";
  }
  return "?";
}

ImageHeader inspect_image(std::span<const std::byte> bytes, std::string_view source_name) {
  const ByteReader r(bytes);
  if (r.size() == 0) fail("{}: empty file", source_name);
  ImageHeader h;
  if (r.starts_with(0, "\xFF\xD8\xFF")) {
    h = inspect_jpeg(r, source_name);
  } else if (r.starts_with(0, "\x89PNG\r\n\x1A\n")) {
    h = inspect_png(r, source_name);
  } else if (r.starts_with(0, "RIFF") && r.starts_with(8, "WEBP")) {
    h = inspect_webp(r, source_name);
  } else {
    fail("{}: unsupported image format ({}); doppel reads JPEG, PNG and WebP", source_name,
         other_format_name(r));
  }
  if (h.width <= 0 || h.height <= 0) {
    fail("{}: zero-size image ({}×{} {})", source_name, h.width, h.height, format_name(h.format));
  }
  return h;
}

void DecodeOptions::validate() const {
  if (target_size < 0) fail("DecodeOptions.target_size must be >= 0, got {}", target_size);
  if (max_pixels <= 0) fail("DecodeOptions.max_pixels must be positive, got {}", max_pixels);
}

cv::Mat decode_image(std::span<const std::byte> bytes, std::string_view source_name,
                     const DecodeOptions& options) {
  options.validate();
  const ImageHeader h = inspect_image(bytes, source_name);
  if (int64_t(h.width) * h.height > options.max_pixels) {
    fail("{}: image too large: {}×{} pixels, the limit is {} (DecodeOptions.max_pixels)",
         source_name, h.width, h.height, options.max_pixels);
  }
  // JPEG: IMREAD_COLOR is the mode that applies EXIF orientation (IMREAD_UNCHANGED ignores it).
  // PNG/WebP: IMREAD_UNCHANGED keeps the alpha channel so that it can be composited here.
  const int flags = h.format == ImageFormat::kJpeg
                        ? jpeg_flags(jpeg_reduction(h, options.target_size))
                        : cv::IMREAD_UNCHANGED;
  const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8U,
                    const_cast<std::byte*>(bytes.data()));  // imdecode only reads it
  cv::Mat decoded;
  try {
    decoded = image_codecs().decode(raw, flags);
  } catch (const cv::Exception& e) {
    fail("{}: cannot decode {}: {}", source_name, format_name(h.format), e.what());
  }
  if (decoded.empty())
    fail("{}: corrupt {} data (decoder failed)", source_name, format_name(h.format));
  return to_rgb8(std::move(decoded), options.background, source_name);
}

void require_image_codecs() { image_codecs(); }

cv::Mat load_image(const std::filesystem::path& path, const DecodeOptions& options) {
  const std::string bytes = read_file(path);
  return decode_image(std::as_bytes(std::span(bytes)), path.string(), options);
}

std::vector<unsigned char> encode_image(const cv::Mat& image, std::string_view ext,
                                        const std::vector<int>& params) {
  DOPPEL_CHECK(!image.empty(), "encoding an empty image");
  cv::Mat bgr;
  switch (image.channels()) {
    case 1:
      bgr = image;
      break;
    case 3:
      cv::cvtColor(image, bgr, cv::COLOR_RGB2BGR);
      break;
    case 4:
      cv::cvtColor(image, bgr, cv::COLOR_RGBA2BGRA);
      break;
    default:
      fail("cannot encode an image of {} channels", image.channels());
  }
  std::vector<unsigned char> bytes;
  const std::string extension(ext);
  try {
    if (image_codecs().encode(extension.c_str(), bgr, params, bytes)) return bytes;
  } catch (const cv::Exception& e) {
    fail("cannot encode a {}×{} image as {}: {}", image.cols, image.rows, extension, e.what());
  }
  fail("cannot encode a {}×{} image as {}", image.cols, image.rows, extension);
}

cv::Mat resize_to(const cv::Mat& image, int width, int height) {
  DOPPEL_CHECK(!image.empty() && width > 0 && height > 0, "resize of {}×{} to {}×{}", image.cols,
               image.rows, width, height);
  if (image.cols == width && image.rows == height) return image.clone();
  const bool shrinking = width <= image.cols && height <= image.rows;
  cv::Mat out;
  cv::resize(image, out, cv::Size(width, height), 0, 0,
             shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

cv::Mat resize_square(const cv::Mat& image, int size) { return resize_to(image, size, size); }

cv::Mat resize_letterbox(const cv::Mat& image, int size, cv::Scalar fill) {
  DOPPEL_CHECK(!image.empty() && size > 0, "letterbox of {}×{} to {}", image.cols, image.rows,
               size);
  const double scale = double(size) / std::max(image.cols, image.rows);
  const int width = std::clamp(int(std::lround(image.cols * scale)), 1, size);
  const int height = std::clamp(int(std::lround(image.rows * scale)), 1, size);
  cv::Mat out(size, size, image.type(), fill);
  resize_to(image, width, height)
      .copyTo(out(cv::Rect((size - width) / 2, (size - height) / 2, width, height)));
  return out;
}

cv::Mat center_square(const cv::Mat& image) {
  const int side = std::min(image.cols, image.rows);
  return image(cv::Rect((image.cols - side) / 2, (image.rows - side) / 2, side, side));
}

}  // namespace doppel
