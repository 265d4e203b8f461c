// HashedTfidf — TF-IDF over hashed features, the classical text representation: used by
// ClassicalTextEncoder (folded + PCA to a dense vector) and by the decider's pair features
// (cosine of two listings' sparse vectors).
//
// Features of a text (after normalize_text and word_tokens):
//   - word family: each word token;
//   - char family: character 3-grams (codepoints, not bytes) of each token padded with '#':
//     "abc" -> "#ab", "abc", "bc#"; a one-letter token "b" gives "#b#".
// Each feature is hashed with FNV-1a 64 (a per-family salt first; stable across platforms and
// runs, unlike std::hash) into 2^bits buckets; the families share the bucket space.
// Value of bucket b: idf(b) · (word_weight · (1 + ln tf_word(b)) + char_weight · (1 + ln
// tf_char(b))), terms with tf = 0 omitted; then the vector is L2-normalised.
// idf(b) = ln((1 + N) / (1 + df(b))) + 1 over the N texts given to fit(); before fit() every
// idf is 1 (plain sublinear tf).
//
// File format (little-endian): 8 bytes magic "DPLTFIDF", u32 version (1), u32 bits,
// f32 word_weight, f32 char_weight, u64 doc count N, then 2^bits u32 document frequencies.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace doppel {

// A sparse vector: index sorted ascending and unique, value the same length.
struct SparseVector {
  std::vector<uint32_t> index;
  std::vector<float> value;
};

// A sparse vector with its squared norm, computed once: pair features take the cosine of one
// listing's vector against many others, and summing the squares again for each pair cost as much
// as the merge of the two index lists.
struct NormedSparseVector {
  NormedSparseVector() = default;
  explicit NormedSparseVector(SparseVector v);
  SparseVector vector;
  double squared_norm = 0;  // Σ value², summed in double in index order
};

class HashedTfidf {
 public:
  static constexpr uint32_t kFormatVersion = 1;

  struct Options {
    int bits = 20;             // 2^bits buckets, 8..28; the df table takes 4·2^bits bytes
    float word_weight = 1.0f;  // weight of the word family
    float char_weight = 1.0f;  // weight of the character 3-gram family
    void validate() const;     // Error naming the field and value
  };

  HashedTfidf();  // default Options
  explicit HashedTfidf(const Options& options);

  // Learns document frequencies over texts (replacing any earlier fit). Texts are raw: they are
  // normalised here.
  void fit(std::span<const std::string> texts);

  // The L2-normalised TF-IDF vector of a raw text; empty when the text has no tokens.
  SparseVector transform(std::string_view text) const;

  float idf(uint32_t bucket) const { return idf_[bucket]; }
  int bits() const { return options_.bits; }
  uint32_t num_buckets() const { return uint32_t{1} << options_.bits; }
  uint64_t num_docs() const { return num_docs_; }
  const Options& options() const { return options_; }

  // The buckets of one word and of its character 3-grams (what transform counts), for tests and
  // for features that look up a single word's idf.
  uint32_t word_bucket(std::string_view token) const;
  std::vector<uint32_t> char_buckets(std::string_view token) const;

  // Dot product divided by both norms; 0 when either vector is empty.
  static float cosine(const SparseVector& a, const SparseVector& b);
  // The same, bit for bit, with the norms read rather than summed.
  static float cosine(const NormedSparseVector& a, const NormedSparseVector& b);

  // save writes atomically; load throws doppel::Error naming the path and what it found on a
  // bad magic, an unknown version, bad options or a truncated or oversized file.
  void save(const std::filesystem::path& path) const;
  static HashedTfidf load(const std::filesystem::path& path);

 private:
  void update_idf();

  Options options_;
  uint64_t num_docs_ = 0;
  std::vector<uint32_t> df_;
  std::vector<float> idf_;
};

}  // namespace doppel
