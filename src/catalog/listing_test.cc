#include "catalog/listing.h"

#include <gtest/gtest.h>

namespace doppel {
namespace {

std::vector<std::string> codes(std::string title, std::string model_number = "") {
  Listing l;
  l.title = std::move(title);
  l.model_number = std::move(model_number);
  return listing_codes(l);
}

using Codes = std::vector<std::string>;

TEST(ListingCodes, TitleCodesLowerCasedWithoutSeparators) {
  EXPECT_EQ(codes("Samsung Galaxy S21 SM-G991B 128GB"), Codes{"smg991b"});
  EXPECT_EQ(codes("Apple Smart Keyboard (MJYR2LL/A), English"), Codes{"mjyr2lla"});
  EXPECT_EQ(codes("\"Corsair CMU32GX4M2C3000C15R\"@es"), Codes{"cmu32gx4m2c3000c15r"});
  // A run is whole: the seller who drops the suffix names another code.
  EXPECT_EQ(codes("SanDisk CF SDCFXPS-128G-X46"), Codes{"sdcfxps128gx46"});
  // Separators at a run's ends are no part of it.
  EXPECT_EQ(codes("Adapter -AB1234/. bundle"), Codes{"ab1234"});
}

TEST(ListingCodes, QuantitiesShortRunsAndPlainWordsAreNoCodes) {
  EXPECT_TRUE(codes("Kingston 128GB 2.4GHz 77in 2x8GB 1920x1080 133x 2,5kg").empty());
  EXPECT_TRUE(codes("GTX 1070 DDR4 i7 W120 4K").empty());           // under 5 characters
  EXPECT_TRUE(codes("Wireless adapter for 2016 laptops").empty());  // no letter and digit
  // A number with letters after it that are not all letters is a code.
  EXPECT_EQ(codes("Memory kit 128gb2 PC4-21300"), (Codes{"128gb2", "pc421300"}));
}

TEST(ListingCodes, NonAsciiBytesSeparateRunsAsPunctuationDoes) {
  EXPECT_EQ(codes("MacBook Air® “MQD42LL/A”"), Codes{"mqd42lla"});
  EXPECT_EQ(codes("Caméra ZX9000™"), Codes{"zx9000"});
}

TEST(ListingCodes, TheModelNumberIsACodeFromFourCharacters) {
  EXPECT_EQ(codes("Camera", "DSC-W120"), Codes{"dscw120"});
  EXPECT_EQ(codes("Camera", "ab 12"), Codes{"ab12"});  // no title rule applies to it
  EXPECT_TRUE(codes("Camera", "AB-1").empty());
  // The same code from both sources is listed once, sorted with the rest.
  EXPECT_EQ(codes("Sony DSC-W120 with case LCS-CSJ2", "dscw120"), (Codes{"dscw120", "lcscsj2"}));
}

}  // namespace
}  // namespace doppel
