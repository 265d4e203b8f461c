// Tests of TokenSet: sorted unique tokens with their weights, and a three-way compare that agrees
// with std::string's order, including tokens that share their first 8 bytes and bytes >= 0x80.
#include "decide/token_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "util/error.h"

namespace doppel {
namespace {

int sign(int x) { return (x > 0) - (x < 0); }

TEST(TokenSet, SortsDropsRepeatsAndWeighs) {
  const TokenSet set({"pro", "iphone", "13", "pro"},
                     [](std::string_view t) { return t == "pro" ? 5.0f : 1.0f; });
  EXPECT_EQ(set.tokens(), (std::vector<std::string>{"13", "iphone", "pro"}));
  EXPECT_EQ(set.token(1), "iphone");
  EXPECT_EQ(set.weight(2), 5.0f);
  EXPECT_EQ(set.weight(0), 1.0f);
  EXPECT_EQ(TokenSet({"a"}).weight(0), 1.0f);  // no weight function: 1
  EXPECT_TRUE(TokenSet().empty());
}

TEST(TokenSet, CompareAgreesWithStringOrder) {
  // Tokens of 1-12 bytes over a small alphabet, so that long shared prefixes, prefixes of one
  // another and equal tokens are common; 0xc3 stands for the first byte of a UTF-8 letter.
  std::mt19937 rng(7);
  const std::string alphabet = "ab9\xc3";
  std::vector<std::string> tokens;
  for (int n = 0; n < 400; ++n) {
    std::string t(1 + rng() % 12, 'a');
    for (char& c : t) c = alphabet[rng() % alphabet.size()];
    tokens.push_back(t);
  }
  tokens.push_back("abababab");  // 8 bytes, and prefixes of it of 9 and more below
  tokens.push_back("ababababa");
  tokens.push_back("ababababb");
  const TokenSet a(tokens), b(std::vector<std::string>(tokens.rbegin(), tokens.rend()));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t j = 0; j < b.size(); ++j) {
      const int expected = sign(std::string(a.token(i)).compare(std::string(b.token(j))));
      ASSERT_EQ(sign(TokenSet::compare(a, i, b, j)), expected)
          << "\"" << a.token(i) << "\" vs \"" << b.token(j) << "\"";
    }
  }
  std::vector<std::string> sorted = tokens;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  EXPECT_EQ(a.tokens(), sorted);
}

TEST(TokenSet, RejectsEmptyTokens) {
  EXPECT_THROW(TokenSet({"a", ""}), Error);
  EXPECT_THROW(TokenSet({std::string("a\0b", 3)}), Error);
}

}  // namespace
}  // namespace doppel
