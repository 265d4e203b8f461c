#include "server/server_options.h"

#include "util/error.h"

namespace doppel {

void ServerOptions::validate() const {
  if (host.empty()) fail("--host must not be empty");
  if (port < 0 || port > 65535) fail("--port must be in [0, 65535], got {}", port);
  if (threads < 1 || threads > 256) fail("--threads must be in [1, 256], got {}", threads);
  if (max_k < 1) fail("max_k must be at least 1, got {}", max_k);
  if (k < 1 || k > max_k) fail("--k must be in [1, {}], got {}", max_k, k);
  if (image_k < 0 || image_k > max_k) fail("--image-k must be in [0, {}], got {}", max_k, image_k);
  if (deadline_ms < 1) fail("--deadline-ms must be at least 1, got {}", deadline_ms);
  if (max_body_bytes < 1024) fail("max_body_bytes must be at least 1024, got {}", max_body_bytes);
  if (max_image_bytes < 1) fail("max_image_bytes must be positive");
  if (!(image_timeout_seconds > 0)) fail("image_timeout_seconds must be positive");
  if (read_timeout_seconds < 1) fail("read_timeout_seconds must be at least 1");
  if (review_sample < 1) fail("review_sample must be at least 1");
}

}  // namespace doppel
