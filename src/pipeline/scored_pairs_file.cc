#include "pipeline/scored_pairs_file.h"

#include <algorithm>
#include <queue>
#include <string>
#include <tuple>
#include <vector>

#include "util/binary_io.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {
namespace {

constexpr char kMagic[8] = {'D', 'P', 'L', 'P', 'A', 'I', 'R', '1'};
constexpr size_t kHeader = sizeof(kMagic) + sizeof(uint64_t);
constexpr size_t kRecord = 2 * sizeof(int64_t) + sizeof(float);

bool before(const ScoredPair& x, const ScoredPair& y) {
  return std::tie(x.a, x.b) < std::tie(y.a, y.b);
}

}  // namespace

void save_scored_pairs(const std::filesystem::path& path, std::span<const ScoredPair> pairs) {
  std::string out;
  out.reserve(kHeader + pairs.size() * kRecord);
  append_bytes(out, kMagic, sizeof(kMagic));
  append_pod<uint64_t>(out, pairs.size());
  for (const ScoredPair& p : pairs) {
    append_pod(out, p.a);
    append_pod(out, p.b);
    append_pod(out, p.confidence);
  }
  write_file_atomic(path, out);
}

ScoredPairsReader::ScoredPairsReader(const std::filesystem::path& path)
    : path_(path), in_(path, std::ios::binary) {
  if (!in_) fail("{}: cannot open the scored pairs file", path.string());
  std::string header(kHeader, '\0');
  in_.read(header.data(), static_cast<std::streamsize>(header.size()));
  header.resize(static_cast<size_t>(in_.gcount()));
  BinaryReader reader(path, header, "scored pairs file");
  reader.expect_magic(std::string_view(kMagic, sizeof(kMagic)));
  count_ = reader.get<uint64_t>("pair count");
  const uint64_t size = std::filesystem::file_size(path);
  if (size < kHeader || (size - kHeader) % kRecord != 0 || (size - kHeader) / kRecord != count_) {
    fail("{}: {} pairs announced, {} bytes of pairs follow; the file is damaged", path.string(),
         count_, size - std::min<uint64_t>(size, kHeader));
  }
}

bool ScoredPairsReader::next(ScoredPair& pair) {
  if (read_ == count_) return false;
  char record[kRecord];
  if (!in_.read(record, kRecord)) fail("{}: cannot read pair {}", path_.string(), read_ + 1);
  BinaryReader reader(path_, std::string_view(record, kRecord), "scored pairs file");
  pair.a = reader.get<int64_t>("key_a");
  pair.b = reader.get<int64_t>("key_b");
  pair.confidence = reader.get<float>("confidence");
  if (pair.a >= pair.b || (read_ > 0 && !before(last_, pair))) {
    fail("{}: pair {} ({}, {}) is out of order; the file is damaged", path_.string(), read_ + 1,
         pair.a, pair.b);
  }
  last_ = pair;
  ++read_;
  return true;
}

void merge_scored_pairs(std::span<const std::filesystem::path> files,
                        const std::function<void(const ScoredPair&)>& visit) {
  std::vector<ScoredPairsReader> readers;
  readers.reserve(files.size());
  for (const auto& file : files) readers.emplace_back(file);
  // The smallest head first: a min-heap of (pair, reader).
  using Head = std::pair<ScoredPair, size_t>;
  const auto after = [](const Head& x, const Head& y) { return before(y.first, x.first); };
  std::priority_queue<Head, std::vector<Head>, decltype(after)> heads(after);
  const auto advance = [&](size_t r) {
    ScoredPair pair;
    if (readers[r].next(pair)) heads.emplace(pair, r);
  };
  for (size_t r = 0; r < readers.size(); ++r) advance(r);
  while (!heads.empty()) {
    auto [pair, r] = heads.top();
    heads.pop();
    advance(r);
    while (!heads.empty() && heads.top().first.a == pair.a && heads.top().first.b == pair.b) {
      pair.confidence = std::max(pair.confidence, heads.top().first.confidence);
      const size_t other = heads.top().second;
      heads.pop();
      advance(other);
    }
    visit(pair);
  }
}

}  // namespace doppel
