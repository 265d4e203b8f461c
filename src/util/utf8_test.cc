#include "util/utf8.h"

#include <gtest/gtest.h>

namespace doppel {

TEST(Utf8, AcceptsValidText) {
  EXPECT_FALSE(find_invalid_utf8("plain ascii").has_value());
  EXPECT_FALSE(find_invalid_utf8("siyah \xc3\xa7\xc3\xb6z \xe2\x82\xac \xf0\x9f\x93\xb1").has_value());
}

TEST(Utf8, ReportsOffsetOfFirstBadByte) {
  EXPECT_EQ(find_invalid_utf8("ab\xff" "cd"), 2u);
  EXPECT_EQ(find_invalid_utf8("abc\xc3"), 3u);           // truncated sequence
  EXPECT_EQ(find_invalid_utf8("\xc0\xaf"), 0u);          // overlong
  EXPECT_EQ(find_invalid_utf8("x\xed\xa0\x80"), 1u);     // surrogate
}

TEST(Utf8, ConvertsLatin1) {
  EXPECT_EQ(latin1_to_utf8("caf\xe9"), "caf\xc3\xa9");
  EXPECT_FALSE(find_invalid_utf8(latin1_to_utf8("\x80\xff\xa0")).has_value());
}

}  // namespace doppel
