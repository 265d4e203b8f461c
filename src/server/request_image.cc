#include "server/request_image.h"

#include <array>
#include <span>

#include "server/http_error.h"

namespace doppel {
namespace {

constexpr std::string_view kDataPrefix = "data:";

std::string_view shorten(std::string_view ref) { return ref.substr(0, 64); }

}  // namespace

RequestImages::RequestImages(ImageFetcherOptions options) : fetcher_(std::move(options)) {}

RequestImages::Image RequestImages::fetch(std::string_view ref) const {
  Image image;
  if (ref.substr(0, kDataPrefix.size()) == kDataPrefix) {
    const size_t comma = ref.find(',');
    if (comma == std::string_view::npos || !ref.substr(0, comma).ends_with(";base64"))
      fail("image: a data URL must look like data:image/png;base64,<data>");
    const std::string_view data = ref.substr(comma + 1);
    const size_t max_bytes = fetcher_.options().max_bytes;
    if (data.size() / 4 * 3 > max_bytes)
      fail_http(413, "image: about {} bytes inline, more than the {} allowed", data.size() / 4 * 3,
                max_bytes);
    image.bytes = decode_base64(data);
    image.header = inspect_image(std::as_bytes(std::span(image.bytes)), "image (inline)");
    return image;
  }
  image.bytes = fetcher_.fetch(ref);
  image.header = inspect_image(std::as_bytes(std::span(image.bytes)), shorten(ref));
  return image;
}

void RequestImages::check_stored_reference(std::string_view ref) const {
  if (ref.substr(0, kDataPrefix.size()) == kDataPrefix)
    fail("image: a listing stores a URL or a path, not inline data");
  if (!ImageFetcher::is_url(ref)) fetcher_.local_path(ref);  // Error when it leaves the root
}

std::string decode_base64(std::string_view text) {
  static const std::array<int8_t, 256> value = [] {
    std::array<int8_t, 256> v;
    v.fill(-1);
    const std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < alphabet.size(); ++i) v[static_cast<unsigned char>(alphabet[i])] = i;
    return v;
  }();
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) fail("image: base64 data has a bad length ({})", text.size());
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  uint32_t bits = 0;
  int count = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const int8_t v = value[static_cast<unsigned char>(text[i])];
    if (v < 0) fail("image: invalid base64 character at offset {}", i);
    bits = (bits << 6) | static_cast<uint32_t>(v);
    if (++count == 4) {
      out += static_cast<char>(bits >> 16);
      out += static_cast<char>(bits >> 8);
      out += static_cast<char>(bits);
      bits = 0;
      count = 0;
    }
  }
  if (count == 2) out += static_cast<char>(bits >> 4);
  if (count == 3) {
    out += static_cast<char>(bits >> 10);
    out += static_cast<char>(bits >> 2);
  }
  return out;
}

}  // namespace doppel
