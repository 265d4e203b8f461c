// RequestImages — the image a request names, resolved within the server's limits. A reference
// is one of:
//   "data:image/<type>;base64,<data>"  inline bytes (refused with 413 above max_bytes)
//   "http://..." / "https://..."        downloaded by ImageFetcher: timeouts, size limit,
//                                       redirects re-checked, cached under the workspace
//   "<relative path>"                   a file inside the image root; absolute paths and paths
//                                       that leave the root ("../x") are refused
// Any other scheme (file:, ftp:) is refused. Every image is checked to be a complete JPEG, PNG
// or WebP before it is used. Thread-safe.
//
// This is the seam for image vectors: the bytes resolved here are what an image encoder will
// embed once a workspace has one.
#pragma once

#include <string>
#include <string_view>

#include "image/image_io.h"
#include "image/image_source.h"

namespace doppel {

class RequestImages {
 public:
  explicit RequestImages(ImageFetcherOptions options);

  struct Image {
    std::string bytes;
    ImageHeader header;
  };
  // Error (HttpError 413 for an oversized inline image) naming the reference and the reason.
  Image fetch(std::string_view ref) const;

  // Checks a reference a listing is about to store, without reading it: an http(s) URL or a path
  // inside the root. Inline data is refused (a listing stores a reference, not bytes).
  void check_stored_reference(std::string_view ref) const;

 private:
  ImageFetcher fetcher_;
};

// Decodes standard base64 (RFC 4648, padding optional, no whitespace); Error on anything else.
std::string decode_base64(std::string_view text);

}  // namespace doppel
