// FNV-1a, 64-bit: the one stable string hash of doppel's files and features (listing ids of
// Ditto records, TF-IDF buckets, character n-grams). Unlike std::hash it is the same on every
// platform and run, so what it produces can be stored.
#pragma once

#include <cstdint>
#include <string_view>

namespace doppel {

inline constexpr uint64_t kFnv1aOffset = 14695981039346656037ull;

// Hashes `bytes` continuing from `state`; chain calls to hash several pieces as one
// (fnv1a64(text, fnv1a64(salt)) == fnv1a64 of salt followed by text).
constexpr uint64_t fnv1a64(std::string_view bytes, uint64_t state = kFnv1aOffset) {
  for (char c : bytes) {
    state ^= static_cast<unsigned char>(c);
    state *= 1099511628211ull;
  }
  return state;
}

}  // namespace doppel
