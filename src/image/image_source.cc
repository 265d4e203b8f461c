#include "image/image_source.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <vector>

#include "util/error.h"
#include "util/files.h"
#include "util/hash.h"

namespace doppel {
namespace {

using Clock = std::chrono::steady_clock;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The scheme of "scheme://rest" in lower case, or "" when `ref` does not start with one.
std::string scheme_of(std::string_view ref) {
  const size_t sep = ref.find("://");
  if (sep == std::string_view::npos || sep == 0 ||
      !std::isalpha(static_cast<unsigned char>(ref[0]))) {
    return "";
  }
  for (char c : ref.substr(0, sep)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return "";
  }
  return lower(ref.substr(0, sep));
}

// An http(s) URL split the way httplib wants it: "scheme://host[:port]" and "/path?query".
struct Url {
  std::string origin;
  std::string target;
};

Url parse_url(std::string_view url, const ImageFetcherOptions& options, std::string_view source) {
  const std::string scheme = scheme_of(url);
  if (scheme != "http" && scheme != "https") {
    fail("{}: unsupported URL scheme '{}' (only http and https)", source, scheme);
  }
  if (scheme == "http" && !options.allow_http) {
    fail("{}: plain http is not allowed (ImageFetcherOptions.allow_http is off)", source);
  }
  std::string_view rest = url.substr(scheme.size() + 3);
  rest = rest.substr(0, rest.find('#'));
  const size_t slash = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, slash);
  if (authority.empty()) fail("{}: URL has no host", source);
  if (authority.find('@') != std::string_view::npos) {
    fail("{}: URLs with user credentials are not supported", source);
  }
  Url u;
  u.origin = scheme + "://" + std::string(authority);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (u.target[0] == '?') u.target.insert(0, "/");
  return u;
}

// Removes "." and ".." segments from a path that starts with '/' (RFC 3986, 5.2.4).
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> kept;
  size_t start = 1;
  for (;;) {
    const size_t slash = path.find('/', start);
    const std::string_view segment = path.substr(start, slash - start);
    const bool last = slash == std::string_view::npos;
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (segment != ".") {
      kept.push_back(segment);
    }
    if (last) {
      if (segment == "." || segment == "..") kept.push_back("");  // "/a/.." is "/", a folder
      break;
    }
    start = slash + 1;
  }
  std::string out;
  for (std::string_view segment : kept) out += "/" + std::string(segment);
  return out.empty() ? "/" : out;
}

// Resolves a Location header against the URL that answered with it.
std::string resolve_redirect(const Url& from, std::string_view location) {
  if (!scheme_of(location).empty()) return std::string(location);
  if (location.starts_with("//")) {
    return from.origin.substr(0, from.origin.find("://") + 1) + std::string(location);
  }
  const size_t query = location.find('?');
  const std::string_view path = location.substr(0, query);
  const std::string_view rest = query == std::string_view::npos ? "" : location.substr(query);
  if (location.starts_with("/")) return from.origin + remove_dot_segments(path) + std::string(rest);
  const std::string base = from.target.substr(0, from.target.find('?'));
  return from.origin +
         remove_dot_segments(base.substr(0, base.rfind('/') + 1) + std::string(path)) +
         std::string(rest);
}

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string hex64(uint64_t value) { return fmt::format("{:016x}", value); }

}  // namespace

void ImageFetcherOptions::validate() const {
  if (!(timeout_seconds > 0)) {
    fail("ImageFetcherOptions.timeout_seconds must be positive, got {}", timeout_seconds);
  }
  if (max_bytes == 0) fail("ImageFetcherOptions.max_bytes must be positive");
  if (max_redirects < 0) {
    fail("ImageFetcherOptions.max_redirects must be >= 0, got {}", max_redirects);
  }
}

ImageFetcher::ImageFetcher(ImageFetcherOptions options) : options_(std::move(options)) {
  options_.validate();
}

bool ImageFetcher::is_url(std::string_view ref) {
  const std::string scheme = scheme_of(ref);
  return scheme == "http" || scheme == "https";
}

std::filesystem::path ImageFetcher::cache_path(std::string_view url) const {
  if (options_.cache_dir.empty()) fail("{}: no cache folder set for downloaded images", url);
  const std::string name = hex64(fnv1a64(url)) + hex64(fnv1a64(url, fnv1a64("doppel-image-url")));
  return options_.cache_dir / name.substr(0, 2) / name;
}

std::filesystem::path ImageFetcher::local_path(std::string_view ref) const {
  if (ref.empty()) fail("empty image reference");
  const std::string scheme = scheme_of(ref);
  if (!scheme.empty()) fail("{}: unsupported URL scheme '{}' (only http and https)", ref, scheme);
  const std::filesystem::path path(ref);
  if (options_.base_dir.empty()) return path;
  const std::filesystem::path base = options_.base_dir.lexically_normal();
  // An absolute path must name a file inside the base folder (doppel ingest stores catalog images
  // as absolute paths); a relative one resolves against it.
  const std::filesystem::path normal =
      path.is_absolute() ? path.lexically_normal().lexically_relative(base) : path.lexically_normal();
  if (normal.empty() || *normal.begin() == ".." || normal == ".") {
    fail("{}: image path leaves the base folder {}", ref, options_.base_dir.string());
  }
  return options_.base_dir / normal;
}

std::string ImageFetcher::fetch(std::string_view ref) const {
  if (!is_url(ref)) {
    const std::filesystem::path path = local_path(ref);
    std::error_code size_error;
    const uintmax_t size = std::filesystem::file_size(path, size_error);
    if (!size_error && size > options_.max_bytes) {  // checked before reading it all
      fail("{}: {} bytes, more than the {} allowed", path.string(), size, options_.max_bytes);
    }
    std::string bytes = read_file(path);
    inspect_image(std::as_bytes(std::span(bytes)), path.string());
    return bytes;
  }
  const std::filesystem::path cached = cache_path(ref);
  std::error_code ec;
  if (std::filesystem::is_regular_file(cached, ec)) return read_file(cached);
  std::string bytes = download(std::string(ref));
  inspect_image(std::as_bytes(std::span(bytes)), ref);
  std::filesystem::create_directories(cached.parent_path(), ec);
  if (ec) fail("{}: cannot create cache folder: {}", cached.parent_path().string(), ec.message());
  write_file_atomic(cached, bytes);
  return bytes;
}

cv::Mat ImageFetcher::load(std::string_view ref, const DecodeOptions& decode) const {
  const std::string bytes = fetch(ref);
  return decode_image(std::as_bytes(std::span(bytes)), ref, decode);
}

std::string ImageFetcher::download(const std::string& url) const {
  const auto timeout = std::chrono::duration<double>(options_.timeout_seconds);
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(timeout);
  std::string current = url;
  for (int hop = 0;; ++hop) {
    const Url u = parse_url(current, options_, url);
    const auto left =
        std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now());
    if (left.count() <= 0) fail("{}: timed out after {} s", url, options_.timeout_seconds);
    httplib::Client client(u.origin);
    client.set_connection_timeout(left);
    client.set_read_timeout(left);
    client.set_write_timeout(left);
    client.set_follow_location(false);  // followed below, so that each hop is checked
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    client.enable_server_certificate_verification(true);
#endif
    int status = 0;
    std::string location, body;
    bool too_large = false, timed_out = false;
    const httplib::Headers headers = {{"User-Agent", "doppel"}};
    const httplib::Result res = client.Get(
        u.target, headers,
        [&](const httplib::Response& response) {
          status = response.status;
          location = response.get_header_value("Location");
          if (status != 200) return false;  // redirects and errors need no body
          const std::string length = response.get_header_value("Content-Length");
          too_large =
              !length.empty() && std::strtoull(length.c_str(), nullptr, 10) > options_.max_bytes;
          return !too_large;
        },
        [&](const char* data, size_t n) {
          body.append(data, n);
          too_large = body.size() > options_.max_bytes;
          timed_out = Clock::now() > deadline;
          return !too_large && !timed_out;
        });
    if (too_large) fail("{}: image larger than the {} bytes allowed", url, options_.max_bytes);
    if (timed_out) fail("{}: timed out after {} s", url, options_.timeout_seconds);
    if (is_redirect(status)) {
      if (location.empty()) fail("{}: HTTP {} redirect without a Location", url, status);
      if (hop >= options_.max_redirects) {
        fail("{}: more than {} redirects", url, options_.max_redirects);
      }
      current = resolve_redirect(u, location);
      continue;
    }
    if (status != 0 && status != 200) fail("{}: HTTP {}", url, status);
    if (!res) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      fail("{}: download failed: {}{}", url, httplib::to_string(res.error()),
           elapsed >= options_.timeout_seconds * 0.95
               ? fmt::format(" (timed out after {} s)", options_.timeout_seconds)
               : "");
    }
    return body;
  }
}

}  // namespace doppel
