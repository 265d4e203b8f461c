#include "decide/token_set.h"

#include <algorithm>
#include <utility>

#include "util/error.h"
#include "util/prefetch.h"

namespace doppel {
namespace {

uint64_t leading_bytes_key(std::string_view token) {
  uint64_t key = 0;
  for (size_t i = 0; i < 8; ++i) {
    const auto byte = i < token.size() ? static_cast<unsigned char>(token[i]) : 0u;
    key = (key << 8) | byte;
  }
  return key;
}

}  // namespace

TokenSet::TokenSet(std::vector<std::string> tokens, const TokenWeight& weight) {
  std::sort(tokens.begin(), tokens.end());
  tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
  keys_.reserve(tokens.size());
  ends_.reserve(tokens.size());
  weights_.reserve(tokens.size());
  for (const std::string& token : tokens) {
    if (token.empty() || token.find('\0') != std::string::npos) {
      fail("token set: a token must be non-empty and hold no zero byte, got \"{}\"", token);
    }
    keys_.push_back(leading_bytes_key(token));
    bytes_ += token;
    ends_.push_back(static_cast<uint32_t>(bytes_.size()));
    weights_.push_back(weight ? weight(token) : 1.0f);
  }
}

void TokenSet::prefetch() const {
  prefetch_bytes(keys_.data(), 1);
  prefetch_bytes(ends_.data(), 1);
  prefetch_bytes(weights_.data(), 1);
  prefetch_bytes(bytes_.data(), 1);
}

std::vector<std::string> TokenSet::tokens() const {
  std::vector<std::string> out;
  out.reserve(size());
  for (size_t i = 0; i < size(); ++i) out.emplace_back(token(i));
  return out;
}

}  // namespace doppel
