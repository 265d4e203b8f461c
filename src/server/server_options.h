// ServerOptions — how `doppel serve` listens and what it accepts. Every limit has its default
// next to it; validate() names the first field out of range.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace doppel {

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback only unless the operator says otherwise
  int port = 8080;                 // 0: any free port (tests)
  int threads = 4;                 // HTTP worker threads
  int k = 10;                      // candidates per match when the request names none
  int max_k = 100;                 // the most candidates a request may ask for
  int image_k = 10;                // candidates by image per match with a photo (0: none)
  // The latency budget of a match: answered with 503 rather than later (docs/server.md). A
  // request may ask for less with "deadline_ms", never for more.
  int deadline_ms = 1000;
  size_t max_body_bytes = 8u << 20;   // larger request bodies are refused with 413
  size_t max_image_bytes = 5u << 20;  // larger images (inline, downloaded or on disk): 413/400
  double image_timeout_seconds = 5;   // connect, each read and the whole image download
  // Local image paths of requests and listings resolve inside this folder and may not leave it;
  // empty: the workspace folder.
  std::filesystem::path image_root;
  // Bearer token of the mutating routes; empty: they are refused (read-only server).
  std::string token;
  int read_timeout_seconds = 5;  // a client that sends nothing for this long is dropped
  // Listings whose neighbours a review-queue request scores: 500 give ~5,000 candidate pairs to
  // pick the 20 most uncertain from, in ~0.5 s at 100k listings (2,000 took 1.1-2.2 s).
  size_t review_sample = 500;

  void validate() const;  // doppel::Error naming the field and value
};

}  // namespace doppel
