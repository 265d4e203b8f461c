#include "util/binary_io.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "util/error.h"

namespace doppel {

TEST(BinaryIo, PodsRoundTripInOrder) {
  std::string bytes;
  append_pod<uint32_t>(bytes, 0xDEADBEEFu);
  append_pod<float>(bytes, -1.5f);
  append_pod<uint64_t>(bytes, 1ull << 40);
  append_pod<int64_t>(bytes, -7);
  append_bytes(bytes, "tail", 4);
  EXPECT_EQ(bytes.size(), 4u + 4 + 8 + 8 + 4);
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0xEF) << "fields are little-endian";

  BinaryReader in("mem.bin", bytes, "test file");
  EXPECT_EQ(in.get<uint32_t>("a"), 0xDEADBEEFu);
  EXPECT_EQ(in.get<float>("b"), -1.5f);
  EXPECT_EQ(in.get<uint64_t>("c"), 1ull << 40);
  EXPECT_EQ(in.get<int64_t>("d"), -7);
  EXPECT_EQ(in.pos(), 24u);
  EXPECT_EQ(in.remaining(), 4u);
  EXPECT_EQ(in.rest(), "tail");
  char tail[4];
  in.read(tail, sizeof(tail), "tail");
  EXPECT_EQ(std::string_view(tail, 4), "tail");
  EXPECT_EQ(in.remaining(), 0u);
  EXPECT_EQ(in.rest(), "");
}

TEST(BinaryIo, TruncationNamesPathKindAndField) {
  std::string bytes;
  append_pod<uint32_t>(bytes, 1);
  append_bytes(bytes, "ab", 2);
  BinaryReader in("/some/dir/x.idx", bytes, "index file");
  EXPECT_EQ(in.get<uint32_t>("version"), 1u);
  try {
    in.get<uint32_t>("dim");
    FAIL() << "expected a truncation error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "/some/dir/x.idx: truncated index file: 6 bytes, ends inside dim");
  }
  EXPECT_EQ(in.pos(), 4u) << "a failed read consumes nothing";
}

}  // namespace doppel
