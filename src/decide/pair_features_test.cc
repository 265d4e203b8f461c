#include "decide/pair_features.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

namespace doppel {
namespace {

Listing listing(std::string title, std::string brand = "", std::optional<double> price = {},
                std::string description = "", std::string model_number = "") {
  Listing l;
  l.title = std::move(title);
  l.brand = std::move(brand);
  l.price = price;
  l.description = std::move(description);
  l.model_number = std::move(model_number);
  return l;
}

std::array<float, kNumPairFeatures> features(const Listing& a, const Listing& b,
                                             PairInputs inputs = {}) {
  std::array<float, kNumPairFeatures> out;
  out.fill(-12345.0f);
  pair_features(make_profile(a), make_profile(b), inputs, out.data());
  return out;
}

float feature(const std::array<float, kNumPairFeatures>& f, std::string_view name) {
  const auto& names = pair_feature_names();
  const auto it = std::find(names.begin(), names.end(), name);
  EXPECT_NE(it, names.end()) << name;
  return f[static_cast<size_t>(it - names.begin())];
}

// Feature `name` of two listings that have only titles.
float title_feature(std::string_view name, std::string a, std::string b) {
  return feature(features(listing(std::move(a)), listing(std::move(b))), name);
}

TEST(PairFeatures, NamesAreUniqueAndEveryFeatureIsWritten) {
  auto names =
      std::vector<std::string_view>(pair_feature_names().begin(), pair_feature_names().end());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::unique(names.begin(), names.end()), names.end());
  const auto f = features(listing("Sony DSC-W120 camera 7.2MP", "Sony", 99.0),
                          listing("Sony Cyber-shot W120 silver 7.2 MP", "", 120.0), {0.9f, 0.5f});
  for (float v : f) EXPECT_NE(v, -12345.0f);
}

TEST(PairFeatures, SymmetricBitForBitOnRandomPairs) {
  const std::vector<std::string> words = {
      "sony", "samsung", "dsc-w120/b", "128gb",    "128",    "gb",   "24\"", "24in",
      "tv",   "black",   "1.5 l",      "500ml",    "kettle", "ab12", "x",    "5",
      "2000", "led",     "4k",         "12345678", "apple",  "ipad", "mini", "2",
      "64",   "wifi",    "cellular",   "é",        "hdmi",   "7.2mp"};
  std::mt19937 rng(3);
  auto random_listing = [&] {
    std::string title;
    const int n = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < n; ++i) title += words[rng() % words.size()] + " ";
    std::optional<double> price;
    if (rng() % 3) price = 1 + rng() % 500;
    const std::string brand = rng() % 2 ? words[rng() % 3] : "";
    return listing(title, brand, price, rng() % 2 ? words[rng() % words.size()] : "");
  };
  for (int trial = 0; trial < 300; ++trial) {
    const Listing a = random_listing(), b = random_listing();
    const PairInputs inputs{static_cast<float>(rng() % 100) / 100, NAN};
    const auto ab = features(a, b, inputs);
    const auto ba = features(b, a, inputs);
    // Bitwise equality also makes NaN == NaN.
    EXPECT_EQ(std::memcmp(ab.data(), ba.data(), sizeof(ab)), 0) << a.title << " | " << b.title;
  }
}

TEST(PairFeatures, MissingPriceAndBrandAreNaN) {
  const auto f = features(listing("red kettle 1.5 l"), listing("kettle red", "", 20.0));
  EXPECT_TRUE(std::isnan(feature(f, "price_ratio")));
  EXPECT_TRUE(std::isnan(feature(f, "price_log_ratio_abs")));
  EXPECT_TRUE(std::isnan(feature(f, "brand_match")));
  EXPECT_TRUE(std::isnan(feature(f, "vector_cosine")));
  EXPECT_TRUE(std::isnan(feature(f, "codes_shared")));
  const auto zero_price = features(listing("a", "", 0.0), listing("a", "", 10.0));
  EXPECT_TRUE(std::isnan(feature(zero_price, "price_ratio")));
}

TEST(PairFeatures, PriceAndBrand) {
  const auto f = features(listing("Bosch drill", "Bosch", 50.0), listing("drill", "BOSCH", 100.0));
  EXPECT_FLOAT_EQ(feature(f, "price_ratio"), 0.5f);
  EXPECT_FLOAT_EQ(feature(f, "price_log_ratio_abs"), std::log(2.0f));
  EXPECT_EQ(feature(f, "brand_match"), 1.0f);
  // One brand missing, but it is named in the other's title.
  EXPECT_EQ(
      feature(features(listing("drill", "Bosch"), listing("Bosch PSB 500 drill")), "brand_match"),
      1.0f);
  EXPECT_EQ(feature(features(listing("drill", "Bosch"), listing("drill", "Makita")), "brand_match"),
            0.0f);
}

TEST(ListingProfile, APriceEndingTheTitleIsReadAsThePriceWhenThereIsNone) {
  const auto p = make_profile(listing("brother tn450 toner cartridge 42.49"));
  ASSERT_TRUE(p.price.has_value());
  EXPECT_DOUBLE_EQ(*p.price, 42.49);
  EXPECT_EQ(p.title_text, "brother tn450 toner cartridge");  // no longer title words
  EXPECT_EQ(p.title_length, 4u);
  EXPECT_DOUBLE_EQ(make_profile(listing("usb hub $9.99 ")).price.value_or(0), 9.99);
  // The price field wins, and the title keeps its words.
  const auto priced = make_profile(listing("toner cartridge 42.49", "", 40.0));
  EXPECT_DOUBLE_EQ(*priced.price, 40.0);
  EXPECT_EQ(priced.title_length, 4u);
  // Not prices: one decimal (versions, sizes), a number inside the title, a title that is only a
  // number.
  for (const char* title : {"adobe acrobat 9.0", "laptop sleeve 15.6", "42.49 toner cartridge",
                            "toner 42.499", "toner .49", "toner 42,49", "42.49"}) {
    EXPECT_FALSE(make_profile(listing(title)).price.has_value()) << title;
  }
}

TEST(ListingProfile, CodesFromModelNumbersWithSeparators) {
  const auto p = make_profile(listing("Sony DSC-W120/B 7.2MP Camera"));
  EXPECT_TRUE(std::binary_search(p.codes.begin(), p.codes.end(), "dscw120"))
      << ::testing::PrintToString(p.codes);
  EXPECT_TRUE(std::binary_search(p.codes.begin(), p.codes.end(), "dscw120b"));
  EXPECT_FALSE(std::binary_search(p.codes.begin(), p.codes.end(), "72mp"));  // a quantity
  const auto digits = make_profile(listing("Part 12345 and 1234", "", {}, "", "AB-12"));
  EXPECT_TRUE(std::binary_search(digits.codes.begin(), digits.codes.end(), "12345"));
  EXPECT_FALSE(std::binary_search(digits.codes.begin(), digits.codes.end(), "1234"));
  EXPECT_TRUE(std::binary_search(digits.codes.begin(), digits.codes.end(), "ab12"));
}

TEST(ListingProfile, QuantitiesCanonicalised) {
  const auto a = make_profile(listing("USB stick 128GB"));
  const auto b = make_profile(listing("usb stick 128 gb"));
  ASSERT_EQ(a.quantities.size(), 1u);
  EXPECT_EQ(a.quantities, b.quantities);
  EXPECT_EQ(a.quantities[0], (std::pair<double, std::string>{128, "gb"}));
  const auto tv = make_profile(listing("TV 24\" LED, 1,5 l, 500ml, 24in, ZX-40G"));
  const std::vector<std::pair<double, std::string>> expected = {
      {1.5, "l"}, {24, "in"}, {500, "ml"}};
  EXPECT_EQ(tv.quantities, expected);  // "zx-40g", a code's part, is no 40 grams
  // The long end of a range is a quantity.
  const std::vector<std::pair<double, std::string>> lens = {{55, "mm"}};
  EXPECT_EQ(make_profile(listing("lens EF-S 18-55mm")).quantities, lens);
}

TEST(ListingProfile, TransferRatesAreQuantitiesNotCodes) {
  // Nearly every SSD, card and drive title names a speed; read as a code, "SATA 6Gb/s" would be
  // an identifier shared by every drive, and the first code of the title.
  const auto card = make_profile(listing("SanDisk Extreme 32GB 160MB/s- SDCFXPS-032G"));
  EXPECT_FALSE(std::binary_search(card.codes.begin(), card.codes.end(), "160mbs"))
      << ::testing::PrintToString(card.codes);
  EXPECT_EQ(card.lead_code, "sdcfxps032g");
  const std::vector<std::pair<double, std::string>> card_quantities = {{32, "gb"}, {160, "mb/s"}};
  EXPECT_EQ(card.quantities, card_quantities);
  const auto drive = make_profile(listing("hard drive SATA 6Gb/s 95 MB/sec, 54Mbps, 1000 Mbit/s"));
  EXPECT_TRUE(drive.codes.empty()) << ::testing::PrintToString(drive.codes);
  const std::vector<std::pair<double, std::string>> drive_quantities = {
      {6, "gb/s"}, {54, "mbit/s"}, {95, "mb/s"}, {1000, "mbit/s"}};
  EXPECT_EQ(drive.quantities, drive_quantities);
  // A size and a rate of one unit do not conflict: "64MB cache" is not "64MB/s".
  EXPECT_EQ(
      feature(features(listing("ssd 64mb cache"), listing("ssd 550mb/s")), "quantities_conflicts"),
      0.0f);
}

TEST(PairFeatures, CodesAndQuantitiesComparisons) {
  const auto same = features(listing("Sony DSC-W120 camera 4GB"), listing("Sony dscw120 4 gb"));
  EXPECT_EQ(feature(same, "codes_any_shared"), 1.0f);
  EXPECT_EQ(feature(same, "codes_disjoint"), 0.0f);
  EXPECT_EQ(feature(same, "quantities_shared"), 1.0f);
  EXPECT_EQ(feature(same, "quantities_conflicts"), 0.0f);
  const auto other = features(listing("Sony DSC-W120 camera 4GB"), listing("Sony DSC-W130 8GB"));
  EXPECT_EQ(feature(other, "codes_disjoint"), 1.0f);
  EXPECT_EQ(feature(other, "quantities_conflicts"), 1.0f);
  // A code written without separators inside the other's title.
  const auto inside = features(listing("camera W120"), listing("sony cybershot dscw120 camera"));
  EXPECT_EQ(feature(inside, "code_in_other_title"), 1.0f);
}

TEST(PairFeatures, TokenOverlaps) {
  const auto f = features(listing("a b c d"), listing("a b"));
  EXPECT_FLOAT_EQ(feature(f, "title_jaccard"), 0.5f);
  EXPECT_FLOAT_EQ(feature(f, "title_containment_min"), 0.5f);
  EXPECT_FLOAT_EQ(feature(f, "title_containment_max"), 1.0f);
  EXPECT_FLOAT_EQ(feature(f, "title_length_ratio"), 0.5f);
  EXPECT_EQ(feature(f, "title_length_min"), 2.0f);
  EXPECT_EQ(feature(f, "title_length_max"), 4.0f);
  const auto g = features(listing("Same Title"), listing("same title!"));
  EXPECT_EQ(feature(g, "title_trigram_jaccard"), 1.0f);
}

TEST(ListingProfile, TokensAreNormalisedAsTheTfidfNormalisesThem) {
  // Upper-case accented letters fold like ASCII ones, accents are stripped, NFKC maps full-width
  // forms: the tokens are those the TF-IDF weighs them by.
  const auto p = make_profile(listing("CAFÉ Crème ＭＩＬＫ 500ML", "NESTLÉ"));
  EXPECT_EQ(p.title_tokens.tokens(), (std::vector<std::string>{"500ml", "cafe", "creme", "milk"}));
  EXPECT_EQ(p.brand, "nestle");
  EXPECT_EQ(title_feature("title_jaccard", "Çanta SİYAH", "çanta siyah"), 1.0f);
  EXPECT_EQ(make_profile(listing("ｉＰｈｏｎｅ 13 128ＧＢ")).quantities,
            (std::vector<std::pair<double, std::string>>{{128.0, "gb"}}));
}

// ---- features 20-29: weighted overlaps, compact containment, near-miss codes, quantities -----

// Weighs the token "pro" 5 and every other token 1, like an IDF that finds "pro" rare.
float rare_pro_weight(std::string_view token) { return token == "pro" ? 5.0f : 1.0f; }

std::array<float, kNumPairFeatures> weighted_features(const Listing& a, const Listing& b) {
  std::array<float, kNumPairFeatures> out;
  out.fill(-12345.0f);
  pair_features(make_profile(a, rare_pro_weight), make_profile(b, rare_pro_weight), {}, out.data());
  return out;
}

TEST(PairFeatures, TitleTfidfCosineIsPassedThrough) {
  const auto f = features(listing("a b"), listing("a c"), {0.25f, 0.5f, 0.75f});
  EXPECT_EQ(feature(f, "vector_cosine"), 0.25f);
  EXPECT_EQ(feature(f, "tfidf_cosine"), 0.5f);
  EXPECT_EQ(feature(f, "title_tfidf_cosine"), 0.75f);
  EXPECT_TRUE(std::isnan(feature(features(listing("a"), listing("b")), "title_tfidf_cosine")));
}

TEST(PairFeatures, WeightedJaccardAndUnmatchedWeightByHand) {
  // Titles {1500w, acme, kettle, pro} and {acme, black, kettle}: shared acme + kettle = 2,
  // unshared 1500w (1) + pro (5) + black (1) = 7, so 2 / 9; the heaviest unshared token is "pro";
  // one unshared token carries a digit.
  const Listing a = listing("Acme kettle PRO 1500W"), b = listing("acme Kettle black");
  for (const auto& f : {weighted_features(a, b), weighted_features(b, a)}) {
    EXPECT_FLOAT_EQ(feature(f, "title_weighted_jaccard"), 2.0f / 9.0f);
    EXPECT_EQ(feature(f, "unmatched_weight_max"), 5.0f);
    EXPECT_EQ(feature(f, "unmatched_digit_tokens"), 1.0f);
  }
  // Unweighted, the same titles give the plain Jaccard 2 / 5 and an unmatched maximum of 1.
  const auto plain = features(a, b);
  EXPECT_FLOAT_EQ(feature(plain, "title_weighted_jaccard"), 2.0f / 5.0f);
  EXPECT_FLOAT_EQ(feature(plain, "title_weighted_jaccard"), feature(plain, "title_jaccard"));
  EXPECT_EQ(feature(plain, "unmatched_weight_max"), 1.0f);

  // Every token shared: 1 and no unmatched weight.
  const auto same = weighted_features(listing("Acme Kettle Pro"), listing("pro kettle ACME"));
  EXPECT_EQ(feature(same, "title_weighted_jaccard"), 1.0f);
  EXPECT_EQ(feature(same, "unmatched_weight_max"), 0.0f);
  EXPECT_EQ(feature(same, "unmatched_digit_tokens"), 0.0f);

  // Both titles without tokens: missing.
  const auto empty = weighted_features(listing("--"), listing("!!"));
  EXPECT_TRUE(std::isnan(feature(empty, "title_weighted_jaccard")));
  EXPECT_TRUE(std::isnan(feature(empty, "unmatched_weight_max")));
}

TEST(PairFeatures, TextWeightedJaccardCountsFieldsOnEitherSide) {
  // Titles {acme, kettle, pro} vs {kettle}: 1 / (1 + 1 + 5). With the brand field, the text
  // tokens are {acme, kettle, pro} vs {acme, kettle}: 2 / (2 + 5).
  const Listing a = listing("Acme kettle pro"), b = listing("kettle", "ACME");
  const auto f = weighted_features(a, b);
  EXPECT_FLOAT_EQ(feature(f, "title_weighted_jaccard"), 1.0f / 7.0f);
  EXPECT_FLOAT_EQ(feature(f, "text_weighted_jaccard"), 2.0f / 7.0f);
  EXPECT_EQ(feature(f, "unmatched_weight_max"), 5.0f);
  EXPECT_EQ(feature(f, "text_unmatched_weight_max"), 5.0f);
  const auto g = weighted_features(listing("kettle pro", "Acme"), listing("Acme kettle pro"));
  EXPECT_EQ(feature(g, "text_weighted_jaccard"), 1.0f);
  EXPECT_EQ(feature(g, "text_unmatched_weight_max"), 0.0f);
  EXPECT_EQ(feature(g, "unmatched_weight_max"), 1.0f);  // "acme" is in one title only
}

TEST(PairFeatures, CompactContainmentJoinsSplitUnits) {
  for (const auto& f :
       {features(listing("4gb"), listing("4 gb")), features(listing("4 gb"), listing("4gb")),
        features(listing("Kingston RAM 4GB"), listing("kingston ram 4 GB"))}) {
    EXPECT_EQ(feature(f, "compact_containment_min"), 1.0f);
    EXPECT_EQ(feature(f, "compact_containment_max"), 1.0f);
  }
  // "acmekettle" is found in "acmekettlepro" (1); of {acme, kettle, pro} only acme and kettle are
  // in "acmekettle": (1 + 1) / (1 + 1 + 5) with "pro" weighing 5.
  const auto f = weighted_features(listing("acme kettle pro"), listing("AcmeKettle"));
  EXPECT_FLOAT_EQ(feature(f, "compact_containment_min"), 2.0f / 7.0f);
  EXPECT_EQ(feature(f, "compact_containment_max"), 1.0f);
  EXPECT_TRUE(
      std::isnan(feature(features(listing("4gb"), listing("--")), "compact_containment_min")));
}

TEST(PairFeatures, CodesNearMissMarksSiblingVariants) {
  // tlsg1005d vs tlsf1005d: one substitution apart.
  const auto sibling = features(listing("TP-LINK TL-SG1005D"), listing("TP-LINK TL-SF1005D"));
  EXPECT_EQ(feature(sibling, "codes_near_miss"), 1.0f);
  // Equal codes are no near miss.
  const auto same = features(listing("Sony DSCW120 camera"), listing("sony dscw120"));
  EXPECT_EQ(feature(same, "codes_near_miss"), 0.0f);
  // Three edits apart is too far.
  const auto far = features(listing("model ab1234"), listing("model ab9876"));
  EXPECT_EQ(feature(far, "codes_near_miss"), 0.0f);
  // Missing when either side has no code.
  EXPECT_TRUE(std::isnan(feature(features(listing("TP-LINK TL-SG1005D"), listing("tp-link switch")),
                                 "codes_near_miss")));
}

// The parts of a hyphenated code are codes of their own ("tl-sg1005d" gives "tlsg1005d" and
// "sg1005d"), and "tlsg1005d" is two edits from "sg1005d": the same code, or the same code
// without its hyphen, must still not count as a near miss.
TEST(PairFeatures, CodesNearMissIsZeroForIdenticalHyphenatedCodes) {
  const auto same = features(listing("TP-LINK TL-SG1005D"), listing("TP-LINK TL-SG1005D"));
  EXPECT_EQ(feature(same, "codes_near_miss"), 0.0f);
  const auto no_hyphen = features(listing("TP-LINK TL-SG1005D"), listing("tp-link tlsg1005d"));
  EXPECT_EQ(feature(no_hyphen, "codes_near_miss"), 0.0f);
}

TEST(PairFeatures, QuantitiesUnmatchedCountsValuesTheOtherSideContradicts) {
  // {(2,gb), (2,x), (1,gb)} vs {(4,gb), (2,x), (2,gb)}: 1gb and 4gb have no counterpart on a side
  // that mentions gb; 2gb and 2x are shared.
  const auto f = features(listing("2gb 2 x 1gb"), listing("4 gb 2 x 2 gb"));
  EXPECT_EQ(feature(f, "quantities_unmatched"), 2.0f);
  EXPECT_EQ(
      feature(features(listing("4 gb 2 x 2 gb"), listing("2gb 2 x 1gb")), "quantities_unmatched"),
      2.0f);
  // A unit the other side never mentions is no contradiction.
  EXPECT_EQ(feature(features(listing("kettle 1.5 l 2000 w"), listing("kettle 1,5 l")),
                    "quantities_unmatched"),
            0.0f);
  EXPECT_TRUE(std::isnan(
      feature(features(listing("kettle 1.5 l"), listing("kettle")), "quantities_unmatched")));
}

// ---- features 32-34: code prefixes, the heaviest shared token, the shared ending ----------------

// Levenshtein distance by the whole table: the reference for Monge-Elkan below.
size_t full_edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min(
          {d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1] ? 1 : 0)});
    }
  }
  return d[a.size()][b.size()];
}

// Monge-Elkan from the distinct tokens of `from` to those of `to`, every weight 1, as pair
// features (30, 31) define it, without their shortcuts.
double naive_monge_elkan(const std::vector<std::string>& from, const std::vector<std::string>& to) {
  double sum = 0;
  for (const auto& t : from) {
    double best = 0;
    for (const auto& u : to) {
      const size_t longer = std::max(t.size(), u.size());
      const size_t d = full_edit_distance(t, u);
      if (d == 0) best = 1;
      if (d > 0 && d <= longer / 3) best = std::max(best, 1.0 - double(d) / double(longer));
    }
    sum += best;
  }
  return sum / double(from.size());
}

TEST(PairFeatures, MongeElkanMatchesTheDefinitionOnRandomTitles) {
  // Tokens over a four-letter alphabet are often a few edits apart, so the shortcuts (a pair
  // compared once for both directions, skipped when lengths or byte sets differ too much) are
  // exercised; a skip that drops a near spelling changes the expected value.
  std::mt19937 rng(11);
  const std::string alphabet = "abc1";
  auto random_tokens = [&] {
    std::vector<std::string> tokens;
    for (int n = 1 + static_cast<int>(rng() % 6); n > 0; --n) {
      std::string t(1 + rng() % 9, 'a');
      for (char& c : t) c = alphabet[rng() % alphabet.size()];
      tokens.push_back(t);
    }
    std::sort(tokens.begin(), tokens.end());
    tokens.erase(std::unique(tokens.begin(), tokens.end()), tokens.end());
    return tokens;
  };
  auto title = [](const std::vector<std::string>& tokens) {
    std::string out;
    for (const auto& t : tokens) out += t + " ";
    return out;
  };
  int partial = 0;  // pairs where some token's best match is a near spelling, not 0 or 1
  for (int trial = 0; trial < 500; ++trial) {
    const auto a = random_tokens(), b = random_tokens();
    const double ab = naive_monge_elkan(a, b), ba = naive_monge_elkan(b, a);
    const auto f = features(listing(title(a)), listing(title(b)));
    EXPECT_NEAR(feature(f, "monge_elkan_min"), std::min(ab, ba), 1e-6)
        << title(a) << "| " << title(b);
    EXPECT_NEAR(feature(f, "monge_elkan_max"), std::max(ab, ba), 1e-6)
        << title(a) << "| " << title(b);
    partial += std::fmod(ab * double(a.size()), 1.0) > 1e-9;
  }
  EXPECT_GT(partial, 40);
}

TEST(PairFeatures, CodesPrefixShareOfTheBestCodePair) {
  // Codes {tlsg1005d, sg1005d} vs {tlsf1005d, sf1005d}: the best pair tlsg1005d / tlsf1005d
  // shares 3 of its 9 leading bytes.
  const Listing a = listing("TP-LINK TL-SG1005D"), b = listing("TP-LINK TL-SF1005D");
  EXPECT_FLOAT_EQ(feature(features(a, b), "codes_prefix_share"), 3.0f / 9.0f);
  EXPECT_FLOAT_EQ(feature(features(b, a), "codes_prefix_share"), 3.0f / 9.0f);
  // A variant suffix: mz7te250bw / mz7te250 share 8 of 10 leading bytes.
  EXPECT_FLOAT_EQ(feature(features(listing("Samsung MZ-7TE250BW"), listing("samsung mz-7te250")),
                          "codes_prefix_share"),
                  0.8f);
  EXPECT_EQ(feature(features(listing("Sony DSC-W120"), listing("sony dscw120 camera")),
                    "codes_prefix_share"),
            1.0f);
  EXPECT_TRUE(std::isnan(
      feature(features(listing("Sony DSC-W120"), listing("sony camera")), "codes_prefix_share")));
}

TEST(PairFeatures, SharedWeightMaxIsTheHeaviestSharedToken) {
  // "pro" weighs 5, every other token 1.
  EXPECT_EQ(feature(weighted_features(listing("acme kettle pro"), listing("Acme PRO")),
                    "shared_weight_max"),
            5.0f);
  EXPECT_EQ(
      feature(weighted_features(listing("acme kettle"), listing("acme pro")), "shared_weight_max"),
      1.0f);
  // Only title tokens count: "pro" in a brand field is not shared.
  EXPECT_EQ(feature(weighted_features(listing("kettle", "Pro"), listing("pro kettle")),
                    "shared_weight_max"),
            1.0f);
  EXPECT_EQ(feature(weighted_features(listing("kettle"), listing("pro")), "shared_weight_max"),
            0.0f);
  EXPECT_TRUE(
      std::isnan(feature(weighted_features(listing("--"), listing("!!")), "shared_weight_max")));
}

TEST(PairFeatures, TitleCommonSuffixCountsWholeTokensBothTitlesEndWith) {
  const auto suffix = [](const char* a, const char* b) {
    return title_feature("title_common_suffix", a, b);
  };
  // Shop boilerplate: "at unique photo" (3 tokens; "pink" / "yellow" part them).
  EXPECT_EQ(
      suffix("Instax Mini 8 - Pink | at Unique Photo", "Instax Mini 8 Yellow at Unique Photo"),
      3.0f);
  EXPECT_EQ(suffix("GoPro HERO4 Silver", "GoPro HERO4 Silver"), 3.0f);  // the whole title
  EXPECT_EQ(suffix("hero4 silver", "gopro hero4 silver"), 2.0f);        // one title is the ending
  EXPECT_EQ(suffix("gopro hero4 silver", "gopro hero4 black"), 0.0f);
  EXPECT_EQ(suffix("kit x4", "tripod kit xx4"), 0.0f);  // "x4" is not the whole token "xx4"
  EXPECT_EQ(suffix("mount kit", "tripod mountkit"), 0.0f);
  EXPECT_EQ(suffix("Canon EOS 7D body", "canon eos 60d body"), 1.0f);
  EXPECT_EQ(suffix("a b c", "x b c"), suffix("x b c", "a b c"));  // symmetric
  EXPECT_TRUE(std::isnan(suffix("--", "gopro")));
}

// ---- features 35-38: sibling variants (lead codes, colours, audiences) -----------------------

TEST(ListingProfile, TheLeadCodeIsTheTitlesFirstCodeWhole) {
  EXPECT_EQ(make_profile(listing("Sony Cyber-shot DSC-W120/B (silver) w120")).lead_code,
            "dscw120b");
  // A code from the model number or description never leads; a title without one has none.
  EXPECT_EQ(make_profile(listing("Sony Cyber-shot", "", {}, "DSC-W120", "DSC-W120")).lead_code, "");
  EXPECT_EQ(make_profile(listing("Seagate 2TB 7200rpm ST2000DM001")).lead_code, "st2000dm001");
}

TEST(PairFeatures, LeadCodesTellApartSiblingsListedWithEachOthersCodes) {
  // One shop lists each watch with its sibling's number too: every code is shared, but each
  // title leads with its own.
  const auto f = features(listing("Michele Deco Watch MWW06V000003 | see also MWW06V000002"),
                          listing("Michele Deco Watch MWW06V000002 | see also MWW06V000003"));
  EXPECT_EQ(feature(f, "codes_any_shared"), 1.0f);
  EXPECT_EQ(feature(f, "lead_codes_equal"), 0.0f);
  EXPECT_NEAR(feature(f, "lead_codes_prefix_share"), 11.0f / 12.0f, 1e-6);

  const auto same = features(listing("Nike Air Force 1 07 315122-111 White"),
                             listing("Air Force 1 (315122-111) | Shop"));
  EXPECT_EQ(feature(same, "lead_codes_equal"), 1.0f);
  EXPECT_EQ(feature(same, "lead_codes_prefix_share"), 1.0f);
  EXPECT_TRUE(std::isnan(
      feature(features(listing("Nike Air Force"), listing("315122-111")), "lead_codes_equal")));
}

TEST(PairFeatures, ColoursUnmatchedAcrossLanguages) {
  auto unmatched = [](std::string a, std::string b) {
    return title_feature("colours_unmatched", std::move(a), std::move(b));
  };
  EXPECT_EQ(unmatched("Air Force 1 - Black", "Air Force 1 schwarz"), 0.0f);
  EXPECT_EQ(unmatched("Air Force 1 - White", "Air Force 1 Nero/Nero"), 2.0f);
  EXPECT_EQ(unmatched("Gel-Noosa Black/Black/Charcoal", "Gel-Noosa White/White/Black"), 2.0f);
  EXPECT_EQ(unmatched("Grey case", "gray case"), 0.0f);  // spellings of one colour
  // written with and without the language's letters, in any case
  EXPECT_EQ(unmatched("Schuh WEISS", "Schuh weiß"), 0.0f);
  EXPECT_EQ(unmatched("Kılıf Yeşil", "kilif YESIL"), 0.0f);
  EXPECT_EQ(unmatched("Kılıf kırmızı", "kilif KIRMIZI"), 0.0f);
  EXPECT_EQ(unmatched("Zapato marrón", "zapato rojo"), 2.0f);
  EXPECT_TRUE(std::isnan(unmatched("Air Force 1", "Air Force 1 White")));  // one names none
  EXPECT_EQ(unmatched("a red x", "blue b"), unmatched("blue b", "a red x"));
}

TEST(PairFeatures, AudiencesUnmatched) {
  auto unmatched = [](std::string a, std::string b) {
    return title_feature("audiences_unmatched", std::move(a), std::move(b));
  };
  EXPECT_EQ(unmatched("Tissot Men's PRC200", "Tissot Ladies' PRC200"), 2.0f);
  EXPECT_EQ(unmatched("Nike WMNS Roshe Two", "Nike Roshe Two Women"), 0.0f);
  EXPECT_EQ(unmatched("Herren Laufschuh", "Running shoe men"), 0.0f);
  EXPECT_EQ(unmatched("Zapatilla NIÑO", "Kids sneaker"), 0.0f);
  EXPECT_EQ(unmatched("Puma evoPOWER FG Mens", "Puma Kids evoPOWER FG Junior"), 2.0f);
  EXPECT_TRUE(std::isnan(unmatched("Puma evoPOWER", "Puma evoPOWER Kids")));
}

}  // namespace
}  // namespace doppel
