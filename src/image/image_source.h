// ImageFetcher — resolves a listing's image field to image bytes. The field is either an
// http(s) URL or a local file path.
//
// URLs are downloaded once into a cache folder and read from there afterwards: the file name is
// a 128-bit FNV-1a hash of the URL (two 64-bit hashes with different seeds, as 32 hex digits)
// under a two-digit subfolder, so that millions of cached images do not share one directory.
// Only bodies that pass inspect_image (a complete JPEG, PNG or WebP) are cached; a failed
// download leaves nothing behind and is retried by the next call. Downloads follow at most
// max_redirects redirects (each hop re-checked against the allowed schemes), stop as soon as the
// body exceeds max_bytes (a Content-Length above it is refused before reading), and give up after
// timeout_seconds: for the connection, for any single read, and for the whole download.
// HTTPS verifies the server certificate against the system CA store.
//
// Local paths: with an empty base_dir a path is used as given. With a base_dir, the base dir is
// a sandbox (the server matches listings that come from requests): relative paths resolve
// against it and must not leave it ("../x" is refused), and an absolute path must lie inside it
// (catalog images are stored as absolute paths). The check
// is lexical: symbolic links inside the base dir are followed, as whoever put them there chose.
//
// Any scheme other than http and https ("ftp://", "file://") is refused. Every failure is a
// doppel::Error that names the URL or path and the reason. Thread-safe: fetch() keeps no state
// besides the cache files, which are written atomically.
#pragma once

#include <opencv2/core.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "image/image_io.h"

namespace doppel {

struct ImageFetcherOptions {
  std::filesystem::path cache_dir;  // where downloads are kept; required to fetch URLs
  std::filesystem::path base_dir;   // relative paths resolve here; empty: paths used as given
  double timeout_seconds = 10;      // connect, each read and the whole download
  size_t max_bytes = 20u << 20;     // a larger image is refused (20 MB)
  int max_redirects = 5;
  bool allow_http = true;  // false: https only (also for redirect targets)

  void validate() const;  // Error naming the field and value
};

class ImageFetcher {
 public:
  explicit ImageFetcher(ImageFetcherOptions options);

  // True for an http:// or https:// reference (case-insensitive scheme).
  static bool is_url(std::string_view ref);

  // The image bytes of `ref` (a URL or a local path), checked by inspect_image.
  std::string fetch(std::string_view ref) const;

  // fetch() then decode_image().
  cv::Mat load(std::string_view ref, const DecodeOptions& decode = {}) const;

  // Where the download of `url` is (or would be) cached.
  std::filesystem::path cache_path(std::string_view url) const;

  // The file a local reference points to, after the base_dir rules above.
  std::filesystem::path local_path(std::string_view ref) const;

  const ImageFetcherOptions& options() const { return options_; }

 private:
  std::string download(const std::string& url) const;

  ImageFetcherOptions options_;
};

}  // namespace doppel
