#include "text/normalize.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <random>

namespace doppel {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> tokens_of(std::string_view raw) {
  return word_tokens(normalize_text(raw));
}

TEST(NormalizeText, FoldsCaseAccentsWidthAndWhitespace) {
  EXPECT_EQ(normalize_text("  Café\tCRÈME \xEF\xBC\xAD\xEF\xBC\xA9\xEF\xBC\xAC\xEF\xBC\xAB "),
            "cafe creme milk");  // fullwidth ＭＩＬＫ
  EXPECT_EQ(normalize_text("Straße"), "strasse");
  EXPECT_EQ(normalize_text("a\x01\x7f b\n\n c\xC2\xA0"
                           "d"),
            "a b c d");                                                // controls, NBSP
  EXPECT_EQ(normalize_text("\xEF\xAC\x81le \xE2\x91\xA0"), "file 1");  // ﬁ ligature, ①
  EXPECT_EQ(normalize_text(""), "");
  EXPECT_EQ(normalize_text(" \t\n "), "");
}

TEST(NormalizeText, InvalidBytesBecomeSpaces) {
  EXPECT_EQ(normalize_text("ab\xFF\xFE"
                           "cd"),
            "ab cd");
  EXPECT_EQ(normalize_text("caf\xE9"), "caf");  // Latin-1 é is not UTF-8
}

// Printable ASCII takes a path of its own; a soft hyphen (U+00AD, ignorable, so removed) sends the
// same text through the Unicode tables, which must give the same result.
TEST(NormalizeText, PrintableAsciiAsTheUnicodeTablesNormalizeIt) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> length(0, 40), printable(0x20, 0x7e), space(0, 3);
  for (int i = 0; i < 2000; ++i) {
    std::string text;
    for (int n = length(rng); n > 0; --n)
      text += space(rng) == 0 ? ' ' : static_cast<char>(printable(rng));
    EXPECT_EQ(normalize_text(text), normalize_text(text + "\xC2\xAD")) << "'" << text << "'";
  }
  EXPECT_EQ(normalize_text("  Sony  DSC-W120/B \"7.2MP\" "), "sony dsc-w120/b \"7.2mp\"");
}

// Each ASCII character between two letters: a letter or digit joins them into one token; '-', '/'
// and '.' join them into a group (a, b, ab); any other character separates them (a, b).
TEST(WordTokens, AsciiWordCharactersAreLettersAndDigits) {
  for (int c = 1; c < 0x80; ++c) {
    const bool word = std::isalnum(c) != 0;
    const bool joiner = c == '-' || c == '/' || c == '.';
    const size_t expected = word ? 1 : joiner ? 3 : 2;
    EXPECT_EQ(word_tokens("a" + std::string(1, static_cast<char>(c)) + "b").size(), expected)
        << "character " << c;
  }
}

TEST(WordTokens, HandCheckedExamples) {
  EXPECT_THAT(tokens_of("Apple iPhone 13 128GB Midnight"),
              ElementsAre("apple", "iphone", "13", "128gb", "midnight"));
  EXPECT_THAT(tokens_of("IPHONE13 128 GB siyah"), ElementsAre("iphone13", "128", "gb", "siyah"));
  EXPECT_THAT(tokens_of("Sony DSC-W120/B 7.2MP"),
              ElementsAre("sony", "dsc", "w120", "b", "dscw120b", "7", "2mp", "7.2mp"));
  EXPECT_THAT(tokens_of("Café Crème 1,5 L"), ElementsAre("cafe", "creme", "1", "5", "l"));
}

TEST(WordTokens, JoinersOnlyBetweenWordCharacters) {
  EXPECT_THAT(tokens_of("- a-- b. c/ /d x-y"), ElementsAre("a", "b", "c", "d", "x", "y", "xy"));
  EXPECT_THAT(tokens_of("v1.2.3"), ElementsAre("v1", "2", "3", "v1.2.3"));
  EXPECT_THAT(tokens_of("USB-C (2m), черный!"), ElementsAre("usb", "c", "usbc", "2m", "черныи"));
  EXPECT_THAT(tokens_of(""), ElementsAre());
  EXPECT_THAT(tokens_of("--- !!"), ElementsAre());
}

TEST(ListingText, JoinsFieldsAndCapsDescription) {
  Listing l;
  l.title = "Sony Camera";
  l.brand = "Sony";
  l.model_number = "DSC-W120";
  EXPECT_EQ(listing_text(l), "Sony Camera Sony DSC-W120");
  std::string description;
  for (int i = 0; i < 40; ++i) description += "  w" + std::to_string(i) + "\n";
  l.description = description;
  l.brand.clear();
  std::string expected = "Sony Camera DSC-W120";
  for (int i = 0; i < 30; ++i) expected += " w" + std::to_string(i);
  EXPECT_EQ(listing_text(l), expected);
}

}  // namespace
}  // namespace doppel
