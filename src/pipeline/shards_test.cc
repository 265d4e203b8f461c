#include "pipeline/shards.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include "catalog/test_dir.h"
#include "pipeline/embed_shards.h"
#include "pipeline/ingest_job.h"
#include "pipeline/space_vectors.h"
#include "pipeline/text_jobs.h"
#include "text/classical_encoder.h"
#include "util/error.h"
#include "util/expect_error.h"

namespace doppel {
namespace {

TEST(Shard, ParsesIOfNAndRejectsTheRest) {
  const Shard s = Shard::parse("2/5");
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 5);
  EXPECT_EQ(s.name(), "2/5");
  EXPECT_TRUE(Shard{}.whole());
  for (const char* bad : {"5/5", "-1/3", "1/0", "1", "a/3", "1/3x", "0/5000", ""}) {
    EXPECT_THROW(Shard::parse(bad), Error) << bad;
  }
}

TEST(Shard, EveryIdFallsInExactlyOneShard) {
  constexpr int kShards = 4;
  std::vector<int> sizes(kShards);
  for (int i = 0; i < 2000; ++i) {
    const std::string id = "listing-" + std::to_string(i);
    int owners = 0;
    for (int k = 0; k < kShards; ++k) {
      if (Shard{k, kShards}.contains(id)) {
        ++owners;
        ++sizes[k];
      }
    }
    ASSERT_EQ(owners, 1) << id;
    EXPECT_TRUE(Shard{}.contains(id));
  }
  for (int size : sizes) EXPECT_NEAR(size, 500, 100);  // a hash, roughly even
}

// A workspace of `n` listings with a small trained TF-IDF encoder.
Workspace workspace_of(const testing::TestDir& dir, const std::string& name, int n) {
  std::string csv = "id,title\n";
  for (int i = 0; i < n; ++i) csv += fmt::format("item-{},Acme lamp {} watts\n", i, 10 * i);
  auto ws = Workspace::init(dir.path() / name);
  ingest_file(ws, dir.write(name + ".csv", csv), {}, /*strict=*/true);
  ClassicalTextEncoder::Options text;
  text.hash_bits = 12;
  text.fold_dim = 64;
  text.out_dim = 4;
  train_tfidf(ws, text);
  return ws;
}

TEST(ShardPages, EveryListingOnceInKeyOrderAPageAtATime) {
  testing::TestDir dir;
  const auto ws = workspace_of(dir, "ws", 23);
  std::vector<int64_t> all;
  for (const int count : {1, 3}) {
    std::vector<int64_t> seen;
    for (int index = 0; index < count; ++index) {
      const Shard shard{index, count};
      ShardPages pages(ws.catalog(), shard, /*page_size=*/4);
      size_t listings = 0;
      for (auto page = pages.next(); !page.empty(); page = pages.next()) {
        EXPECT_LE(page.size(), 4u);
        for (const Listing& l : page) {
          EXPECT_TRUE(shard.contains(l.id)) << l.id;
          EXPECT_TRUE(seen.empty() || count > 1 || l.key > seen.back());
          seen.push_back(l.key);
        }
        listings += page.size();
      }
      EXPECT_EQ(listings, pages.size());
    }
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen.size(), 23u);
    EXPECT_TRUE(std::adjacent_find(seen.begin(), seen.end()) == seen.end()) << "a listing twice";
    if (count == 1) all = seen;
    EXPECT_EQ(seen, all);
  }
}

TEST(EmbedShards, MergedShardsStoreWhatOneEmbedStoresEvenWithEmptyShards) {
  testing::TestDir dir;
  auto one = workspace_of(dir, "one", 5);
  embed_text(one);
  auto sharded = workspace_of(dir, "sharded", 5);
  std::vector<std::filesystem::path> dirs;
  size_t listings = 0, empty = 0;
  for (int i = 0; i < 8; ++i) {  // 5 listings over 8 shards: some shards are empty
    dirs.push_back(dir.path() / fmt::format("shard-{}", i));
    const auto summary = embed_shard(sharded, Shard{i, 8}, dirs.back(), true, false);
    listings += summary.listings;
    empty += summary.listings == 0;
  }
  EXPECT_EQ(listings, 5u);
  EXPECT_GT(empty, 0u);
  EXPECT_TRUE(sharded.catalog().vectors("text").keys.empty()) << "a shard stored vectors";
  const auto merged = merge_embed_shards(sharded, dirs);
  EXPECT_EQ(merged.text_vectors, 5u);
  EXPECT_EQ(sharded.catalog().vectors("text").keys, one.catalog().vectors("text").keys);
  EXPECT_EQ(sharded.catalog().vectors("text").data, one.catalog().vectors("text").data);
  EXPECT_EQ(sharded.catalog().meta("text_encoder"), one.catalog().meta("text_encoder"));
}

SpaceVectors page_of(std::vector<int64_t> keys, std::vector<int64_t> removed) {
  SpaceVectors v;
  v.dim = 3;
  for (int64_t key : keys) {
    v.keys.push_back(key);
    v.data.insert(v.data.end(), {key + 0.5f, -1.0f * key, 2.0f});
    v.sources.push_back(~uint64_t{0} - key);
  }
  v.removed = std::move(removed);
  return v;
}

TEST(SpaceVectors, FileOfPagesRoundTripAndDamage) {
  const std::vector<SpaceVectors> pages = {page_of({4, 9}, {7}), page_of({}, {}), page_of({12}, {}),
                                           page_of({}, {13, 14})};
  const auto path = std::filesystem::temp_directory_path() /
                    ("doppel_space_vectors_" + std::to_string(::getpid()) + ".vectors");
  {
    SpaceVectorsWriter writer(path, 3);
    for (const SpaceVectors& page : pages) writer.append(page);
    EXPECT_FALSE(std::filesystem::exists(path)) << "in place before commit";
    writer.commit();
  }
  SpaceVectorsReader reader(path, "text", "tfidf");
  EXPECT_EQ(reader.dim(), 3);
  EXPECT_EQ(reader.rows(), 3u);
  EXPECT_EQ(reader.removed(), 3u);
  SpaceVectors back;
  for (const SpaceVectors& page : pages) {
    if (page.keys.empty() && page.removed.empty()) continue;  // an empty page is not written
    ASSERT_TRUE(reader.next(back));
    EXPECT_EQ(back.space, "text");
    EXPECT_EQ(back.encoder, "tfidf");
    EXPECT_EQ(back.dim, 3);
    EXPECT_EQ(back.keys, page.keys);
    EXPECT_EQ(back.data, page.data);
    EXPECT_EQ(back.sources, page.sources);
    EXPECT_EQ(back.removed, page.removed);
  }
  EXPECT_FALSE(reader.next(back));

  const std::string bytes = read_file(path);
  const auto open = [](const std::filesystem::path& p) { SpaceVectorsReader(p, "text", "x"); };
  expect_load_error(path, bytes.substr(0, bytes.size() - 4), open, "truncated");
  expect_load_error(path, bytes.substr(0, 60), open, "more than the file holds");
  expect_load_error(path, bytes + "x", open, "unexpected bytes");
  std::string miscounted = bytes;
  miscounted[miscounted.size() - 16] ^= 1;  // the end's total of rows
  expect_load_error(path, miscounted, open, "its end counts");
  expect_load_error(path, "not vectors at all", open, "magic is");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace doppel
