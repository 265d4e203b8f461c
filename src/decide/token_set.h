// TokenSet — the distinct word tokens of a listing's text, sorted, each with a weight, laid out
// for the set operations of pair features: every pair of listings a dedup judges merges two of
// them, so comparing two tokens must be cheap.
//
// Each token's first 8 bytes are kept as a big-endian integer, zero-padded: integers order as the
// tokens' bytes do (std::string's order), so a merge compares integers and reads a token's bytes
// only when two tokens of more than 8 bytes share their first 8. Tokens hold no zero byte (they
// are runs of letters and digits), so when the keys are equal and one token has at most 8 bytes,
// it is a prefix of the other and their sizes decide. The bytes of all tokens sit in one buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace doppel {

// How informative a word token is (the pipeline passes the catalog's IDF); an empty function
// weighs every token 1.
using TokenWeight = std::function<float(std::string_view token)>;

class TokenSet {
 public:
  TokenSet() = default;
  // `tokens` in any order, repeats allowed; none may be empty or hold a zero byte.
  explicit TokenSet(std::vector<std::string> tokens, const TokenWeight& weight = {});

  size_t size() const { return keys_.size(); }
  bool empty() const { return keys_.empty(); }
  std::string_view token(size_t i) const {
    return std::string_view(bytes_).substr(begin(i), token_size(i));
  }
  float weight(size_t i) const { return weights_[i]; }
  std::vector<std::string> tokens() const;  // in order, for tests and messages
  // Starts loading the first cache line of each array (util/prefetch.h).
  void prefetch() const;

  // <0, 0 or >0 as a's token i sorts before, equal to or after b's token j.
  static int compare(const TokenSet& a, size_t i, const TokenSet& b, size_t j) {
    if (a.keys_[i] != b.keys_[j]) return a.keys_[i] < b.keys_[j] ? -1 : 1;
    const size_t a_size = a.token_size(i), b_size = b.token_size(j);
    // Equal keys and a token of at most 8 bytes: that token is a prefix of the other.
    if (a_size <= 8 || b_size <= 8) return a_size == b_size ? 0 : a_size < b_size ? -1 : 1;
    return a.token(i).substr(8).compare(b.token(j).substr(8));
  }

 private:
  uint32_t begin(size_t i) const { return i == 0 ? 0 : ends_[i - 1]; }
  size_t token_size(size_t i) const { return ends_[i] - begin(i); }

  std::vector<uint64_t> keys_;  // the first 8 bytes, big-endian, zero-padded
  std::vector<uint32_t> ends_;  // token i is bytes_[ends_[i - 1], ends_[i]) (from 0 for i = 0)
  std::vector<float> weights_;
  std::string bytes_;
};

}  // namespace doppel
