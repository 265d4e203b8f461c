#include "util/strings.h"

#include <gtest/gtest.h>

namespace doppel {
namespace {

TEST(Trim, AsciiWhitespaceAtBothEndsOnly) {
  EXPECT_EQ(trim(" \t a b \r\n\f\v"), "a b");
  EXPECT_EQ(trim("a"), "a");
  EXPECT_EQ(trim(" \t\r\n"), "");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(trim("\xC2\xA0x"), "\xC2\xA0x");  // no-break space is not ASCII whitespace
}

}  // namespace
}  // namespace doppel
