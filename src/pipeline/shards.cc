#include "pipeline/shards.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/files.h"
#include "util/hash.h"

namespace doppel {
namespace {

constexpr const char* kManifestFile = "shard.json";
constexpr const char* kFormat = "doppel-shard";
constexpr int kVersion = 1;
constexpr int kMaxShards = 4096;

int parse_int(std::string_view text) {
  int value = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() ? value : -1;
}

}  // namespace

Shard Shard::parse(std::string_view text) {
  const size_t slash = text.find('/');
  const int index = slash == std::string_view::npos ? -1 : parse_int(text.substr(0, slash));
  const int count = slash == std::string_view::npos ? -1 : parse_int(text.substr(slash + 1));
  if (index < 0 || count < 1 || count > kMaxShards || index >= count) {
    fail("shard '{}' is not i/N with 0 <= i < N <= {} (e.g. 0/4)", text, kMaxShards);
  }
  return {index, count};
}

bool Shard::contains(std::string_view listing_id) const {
  return fnv1a64(listing_id) % static_cast<uint64_t>(count) == static_cast<uint64_t>(index);
}

std::string Shard::name() const { return fmt::format("{}/{}", index, count); }

std::vector<int64_t> shard_keys(const CatalogStore& catalog, Shard shard) {
  std::vector<int64_t> keys;
  catalog.for_each_id([&](int64_t key, std::string_view id) {
    if (shard.contains(id)) keys.push_back(key);
  });
  return keys;
}

ShardPages::ShardPages(const CatalogStore& catalog, Shard shard, size_t page_size)
    : catalog_(catalog),
      page_size_(page_size),
      whole_(shard.whole()),
      after_(std::numeric_limits<int64_t>::min()) {
  if (!whole_) keys_ = shard_keys(catalog, shard);
  size_ = whole_ ? catalog.size() : keys_.size();
}

std::vector<Listing> ShardPages::next() {
  if (whole_) {
    std::vector<Listing> page = catalog_.listings_after(after_, page_size_);
    if (!page.empty()) after_ = page.back().key;
    return page;
  }
  const size_t n = std::min(page_size_, keys_.size() - next_key_);
  const auto page = std::span(keys_).subspan(next_key_, n);
  next_key_ += n;
  return page.empty() ? std::vector<Listing>{} : catalog_.get_by_keys(page);
}

std::string catalog_digest(const CatalogStore& catalog, std::string_view extra) {
  uint64_t h = kFnv1aOffset;
  catalog.for_each_id([&](int64_t key, std::string_view id) {
    h = fnv1a64(std::to_string(key), h);
    h = fnv1a64(std::string_view("\x1f", 1), h);
    h = fnv1a64(id, h);
    h = fnv1a64(std::string_view("\x1e", 1), h);
  });
  return fmt::format("{:016x}", fnv1a64(extra, h));
}

void write_shard_manifest(const std::filesystem::path& dir, const ShardManifest& m) {
  nlohmann::json json = nlohmann::json::parse(m.fields.empty() ? "{}" : m.fields);
  json["format"] = kFormat;
  json["version"] = kVersion;
  json["job"] = m.job;
  json["shard"] = m.shard.index;
  json["count"] = m.shard.count;
  json["catalog"] = m.catalog;
  json["listings"] = m.listings;
  std::filesystem::create_directories(dir);
  write_file_atomic(dir / kManifestFile, json.dump(2) + "\n");
}

ShardManifest read_shard_manifest(const std::filesystem::path& dir) {
  const auto path = dir / kManifestFile;
  if (!std::filesystem::exists(path)) {
    fail(
        "{}: missing; {} is not a shard folder (written by `doppel embed|index|dedup --shard i/N`)",
        path.string(), dir.string());
  }
  try {
    auto json = nlohmann::json::parse(read_file(path));
    if (json.at("format") != kFormat) fail("{}: not a doppel shard manifest", path.string());
    if (json.at("version") != kVersion) {
      fail("{}: shard format version {} is not supported (this build reads {})", path.string(),
           json.at("version").dump(), kVersion);
    }
    ShardManifest m;
    m.job = json.at("job").get<std::string>();
    m.shard = {json.at("shard").get<int>(), json.at("count").get<int>()};
    m.catalog = json.at("catalog").get<std::string>();
    m.listings = json.at("listings").get<size_t>();
    m.fields = json.dump();
    if (m.shard.count < 1 || m.shard.index < 0 || m.shard.index >= m.shard.count) {
      fail("{}: shard {} is not i/N with 0 <= i < N", path.string(), m.shard.name());
    }
    return m;
  } catch (const nlohmann::json::exception& e) {
    fail("{}: {}", path.string(), e.what());
  }
}

std::vector<ShardManifest> read_complete_shard_set(std::span<const std::filesystem::path> dirs) {
  if (dirs.empty()) fail("merge: no shard folders given");
  std::vector<ShardManifest> manifests;
  for (const auto& dir : dirs) manifests.push_back(read_shard_manifest(dir));
  const ShardManifest& first = manifests.front();
  std::vector<int> seen(static_cast<size_t>(first.shard.count), -1);
  for (size_t i = 0; i < manifests.size(); ++i) {
    const ShardManifest& m = manifests[i];
    const std::string where = dirs[i].string();
    if (m.job != first.job) {
      fail("{}: a shard of `doppel {}`, but {} holds one of `doppel {}`", where, m.job,
           dirs[0].string(), first.job);
    }
    if (m.shard.count != first.shard.count) {
      fail("{}: shard {} of a {}-way split, but {} is of a {}-way split", where, m.shard.name(),
           m.shard.count, dirs[0].string(), first.shard.count);
    }
    if (m.catalog != first.catalog) {
      fail("{}: made from another catalog state than {}; re-run the shards on one copy", where,
           dirs[0].string());
    }
    int& slot = seen[static_cast<size_t>(m.shard.index)];
    if (slot >= 0) {
      fail("{}: shard {} is given twice (also {})", where, m.shard.name(),
           dirs[static_cast<size_t>(slot)].string());
    }
    slot = static_cast<int>(i);
  }
  std::vector<int> missing;
  for (size_t i = 0; i < seen.size(); ++i) {
    if (seen[i] < 0) missing.push_back(static_cast<int>(i));
  }
  if (!missing.empty()) {
    fail("merge: shards {} of {} are missing", fmt::join(missing, ", "), first.shard.count);
  }
  return manifests;
}

void check_same_catalog(const ShardManifest& manifest, const std::filesystem::path& dir,
                        std::string_view digest) {
  if (manifest.catalog != digest) {
    fail(
        "{}: the shards were made from another catalog state than the workspace holds now "
        "(listings, vectors, decider or trained index changed); re-run the shards",
        dir.string());
  }
}

}  // namespace doppel
