#include "pipeline/shards.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include "pipeline/space_vectors.h"
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

TEST(SpaceVectors, FileRoundTripAndDamage) {
  SpaceVectors v;
  v.space = "text";
  v.encoder = "tfidf";
  v.dim = 3;
  v.keys = {4, 9};
  v.data = {1, 2, 3, 4, 5, 6};
  v.sources = {~uint64_t{0}, 11};
  v.removed = {7};
  const auto path = std::filesystem::temp_directory_path() /
                    ("doppel_space_vectors_" + std::to_string(::getpid()) + ".vectors");
  v.save(path);
  const SpaceVectors back = SpaceVectors::load(path, "text", "tfidf");
  EXPECT_EQ(back.dim, 3);
  EXPECT_EQ(back.keys, v.keys);
  EXPECT_EQ(back.data, v.data);
  EXPECT_EQ(back.sources, v.sources);
  EXPECT_EQ(back.removed, v.removed);
  const std::string bytes = read_file(path);
  const auto load = [](const std::filesystem::path& p) { SpaceVectors::load(p, "text", "tfidf"); };
  expect_load_error(path, bytes.substr(0, bytes.size() - 4), load, "truncated");
  expect_load_error(path, bytes + "x", load, "unexpected bytes");
  expect_load_error(path, "not vectors at all", load, "magic is");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace doppel
