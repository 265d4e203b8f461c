#include "text/tfidf.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <memory_resource>
#include <unordered_map>
#include <utility>

#include "text/normalize.h"
#include "util/binary_io.h"
#include "util/error.h"
#include "util/files.h"
#include "util/hash.h"

namespace doppel {
namespace {

constexpr char kMagic[8] = {'D', 'P', 'L', 'T', 'F', 'I', 'D', 'F'};
constexpr size_t kHeaderSize = 8 + 4 + 4 + 4 + 4 + 8;
constexpr std::string_view kWordSalt = "w\x1f";
constexpr std::string_view kCharSalt = "c\x1f";

uint64_t salted_hash(std::string_view salt, std::string_view text) {
  return fnv1a64(text, fnv1a64(salt));
}

// Byte offsets where each codepoint of s starts, plus s.size() at the end, into `starts`.
void codepoint_starts(std::string_view s, std::vector<size_t>& starts) {
  starts.clear();
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  size_t i = 0;
  while (i < s.size()) {
    starts.push_back(i);
    utf8proc_int32_t cp;
    const utf8proc_ssize_t len = utf8proc_iterate(p + i, s.size() - i, &cp);
    i += len > 0 ? static_cast<size_t>(len) : 1;
  }
  starts.push_back(s.size());
}

// Calls add(bucket) for each character 3-gram of "#token#" in order. `padded` and `starts` are
// scratch space, reused across the tokens of a text so that none of them costs an allocation.
template <typename Add>
void add_char_buckets(const HashedTfidf& tfidf, std::string_view token, std::string& padded,
                      std::vector<size_t>& starts, Add add) {
  padded.assign(1, '#');
  padded.append(token);
  padded.push_back('#');
  codepoint_starts(padded, starts);
  for (size_t i = 0; i + 3 < starts.size(); ++i) {
    const std::string_view gram(padded.data() + starts[i], starts[i + 3] - starts[i]);
    add(static_cast<uint32_t>(salted_hash(kCharSalt, gram) & (tfidf.num_buckets() - 1)));
  }
}

struct Counts {
  uint32_t word = 0;
  uint32_t chars = 0;
};

}  // namespace

void HashedTfidf::Options::validate() const {
  if (bits < 8 || bits > 28) fail("tfidf option bits must be in 8..28, got {}", bits);
  if (!(word_weight >= 0) || !(char_weight >= 0) || word_weight + char_weight <= 0) {
    fail("tfidf option weights must be >= 0 and not both 0, got word_weight={} char_weight={}",
         word_weight, char_weight);
  }
}

HashedTfidf::HashedTfidf() : HashedTfidf(Options()) {}

HashedTfidf::HashedTfidf(const Options& options) : options_(options) {
  options_.validate();
  df_.assign(num_buckets(), 0);
  update_idf();
}

uint32_t HashedTfidf::word_bucket(std::string_view token) const {
  return static_cast<uint32_t>(salted_hash(kWordSalt, token) & (num_buckets() - 1));
}

std::vector<uint32_t> HashedTfidf::char_buckets(std::string_view token) const {
  std::vector<uint32_t> out;
  std::string padded;
  std::vector<size_t> starts;
  add_char_buckets(*this, token, padded, starts, [&out](uint32_t b) { out.push_back(b); });
  return out;
}

namespace {

// Per-bucket counts of both families for one text.
using CountMap = std::pmr::unordered_map<uint32_t, Counts>;

// Counts the buckets of `text` and returns use(counts). The map's nodes come from an arena on the
// stack: transform runs for every listing a job prepares, and a heap node per bucket was most of
// its cost. Its hash and growth are std::unordered_map's, so it iterates in the same order.
template <typename Use>
auto with_counts(const HashedTfidf& tfidf, std::string_view text, Use use) {
  std::array<std::byte, 16384> buffer;  // room for a typical title or description
  std::pmr::monotonic_buffer_resource arena(buffer.data(), buffer.size());
  CountMap counts(&arena);
  std::string padded;
  std::vector<size_t> starts;
  for (const std::string& token : word_tokens(normalize_text(text))) {
    ++counts[tfidf.word_bucket(token)].word;
    add_char_buckets(tfidf, token, padded, starts, [&counts](uint32_t b) { ++counts[b].chars; });
  }
  return use(counts);
}

}  // namespace

void HashedTfidf::fit(std::span<const std::string> texts) {
  std::fill(df_.begin(), df_.end(), 0u);
  for (const std::string& text : texts) {
    with_counts(*this, text, [this](const CountMap& counts) {
      for (const auto& [bucket, c] : counts) ++df_[bucket];
    });
  }
  num_docs_ = texts.size();
  update_idf();
}

void HashedTfidf::update_idf() {
  idf_.resize(df_.size());
  const double n = static_cast<double>(num_docs_);
  for (size_t b = 0; b < df_.size(); ++b) {
    idf_[b] = static_cast<float>(std::log((1.0 + n) / (1.0 + df_[b])) + 1.0);
  }
}

SparseVector HashedTfidf::transform(std::string_view text) const {
  std::vector<std::pair<uint32_t, float>> entries;
  double norm2 = 0;
  with_counts(*this, text, [&](const CountMap& counts) {
    entries.reserve(counts.size());
    for (const auto& [bucket, c] : counts) {
      float tf = 0;
      if (c.word > 0) tf += options_.word_weight * (1.0f + std::log(static_cast<float>(c.word)));
      if (c.chars > 0) tf += options_.char_weight * (1.0f + std::log(static_cast<float>(c.chars)));
      const float v = tf * idf_[bucket];
      if (v == 0.0f) continue;
      entries.emplace_back(bucket, v);
      norm2 += double(v) * v;
    }
  });
  std::sort(entries.begin(), entries.end());
  SparseVector out;
  out.index.reserve(entries.size());
  out.value.reserve(entries.size());
  const float inv = norm2 > 0 ? static_cast<float>(1.0 / std::sqrt(norm2)) : 0.0f;
  for (const auto& [bucket, v] : entries) {
    out.index.push_back(bucket);
    out.value.push_back(v * inv);
  }
  return out;
}

namespace {

double squared_norm(const SparseVector& v) {
  double sum = 0;
  for (float x : v.value) sum += double(x) * x;
  return sum;
}

float cosine_with_norms(const SparseVector& a, double na, const SparseVector& b, double nb) {
  if (na == 0 || nb == 0) return 0.0f;
  double dot = 0;
  size_t i = 0, j = 0;
  while (i < a.index.size() && j < b.index.size()) {
    if (a.index[i] < b.index[j]) {
      ++i;
    } else if (a.index[i] > b.index[j]) {
      ++j;
    } else {
      dot += double(a.value[i++]) * b.value[j++];
    }
  }
  return static_cast<float>(dot / std::sqrt(na * nb));
}

}  // namespace

NormedSparseVector::NormedSparseVector(SparseVector v)
    : vector(std::move(v)), squared_norm(doppel::squared_norm(vector)) {}

float HashedTfidf::cosine(const SparseVector& a, const SparseVector& b) {
  return cosine_with_norms(a, squared_norm(a), b, squared_norm(b));
}

float HashedTfidf::cosine(const NormedSparseVector& a, const NormedSparseVector& b) {
  return cosine_with_norms(a.vector, a.squared_norm, b.vector, b.squared_norm);
}

void HashedTfidf::save(const std::filesystem::path& path) const {
  std::string bytes(kMagic, sizeof(kMagic));
  append_pod<uint32_t>(bytes, kFormatVersion);
  append_pod<uint32_t>(bytes, static_cast<uint32_t>(options_.bits));
  append_pod<float>(bytes, options_.word_weight);
  append_pod<float>(bytes, options_.char_weight);
  append_pod<uint64_t>(bytes, num_docs_);
  append_bytes(bytes, df_.data(), df_.size() * sizeof(uint32_t));
  write_file_atomic(path, bytes);
}

HashedTfidf HashedTfidf::load(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  const std::string where = path.string();
  if (bytes.size() < kHeaderSize) {
    fail("{}: truncated tfidf file: {} bytes, shorter than the {}-byte header", where, bytes.size(),
         kHeaderSize);
  }
  BinaryReader in(path, bytes, "TF-IDF file");
  in.expect_magic(std::string_view(kMagic, sizeof(kMagic)));
  const auto version = in.get<uint32_t>("format version");
  if (version != kFormatVersion) {
    fail("{}: tfidf format version {}, this doppel reads {}", where, version, kFormatVersion);
  }
  Options options;
  options.bits = static_cast<int>(in.get<uint32_t>("bits"));
  options.word_weight = in.get<float>("word weight");
  options.char_weight = in.get<float>("char weight");
  try {
    options.validate();
  } catch (const Error& e) {
    fail("{}: {}", where, e.what());
  }
  HashedTfidf tfidf(options);
  tfidf.num_docs_ = in.get<uint64_t>("document count");
  const size_t expected = kHeaderSize + size_t{tfidf.num_buckets()} * sizeof(uint32_t);
  if (bytes.size() != expected) {
    fail("{}: {} tfidf file: {} bytes, expected {} for {} buckets", where,
         bytes.size() < expected ? "truncated" : "oversized", bytes.size(), expected,
         tfidf.num_buckets());
  }
  in.read(tfidf.df_.data(), tfidf.df_.size() * sizeof(uint32_t), "document frequencies");
  for (size_t b = 0; b < tfidf.df_.size(); ++b) {
    if (tfidf.df_[b] > tfidf.num_docs_) {
      fail("{}: corrupt tfidf file: bucket {} has df {} > doc count {}", where, b, tfidf.df_[b],
           tfidf.num_docs_);
    }
  }
  tfidf.update_idf();
  return tfidf;
}

}  // namespace doppel
