#include "synth/grocery_catalog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "util/files.h"

namespace doppel {
namespace {

namespace fs = std::filesystem;

const fs::path kGrocery = "../shared/data/grocerystore-packages";

// Loaded once: the catalog tests share it.
const GroceryDataset* grocery() {
  static const auto* data =
      fs::exists(kGrocery) ? new GroceryDataset(load_grocery(kGrocery)) : nullptr;
  return data;
}

#define REQUIRE_GROCERY() \
  if (grocery() == nullptr) GTEST_SKIP() << kGrocery << " not present"

TEST(GroceryCatalog, ProductTextFromTheProductFolder) {
  REQUIRE_GROCERY();
  const auto& data = *grocery();
  auto index_of = [&](std::string_view product) {
    return size_t(std::find(data.products.begin(), data.products.end(), product) -
                  data.products.begin());
  };
  const GroceryProductText milk =
      read_grocery_product_text(data, index_of("Milk/Arla-Standard-Milk"));
  EXPECT_EQ(milk.brand, "Arla");
  EXPECT_EQ(milk.words, (std::vector<std::string>{"Standard", "Milk"}));
  EXPECT_EQ(milk.manufacturer, "ARLA KO");
  EXPECT_EQ(milk.size, "1l");
  EXPECT_EQ(milk.swedish_title, "Mjölk 3%");
  EXPECT_FALSE(milk.sentences.empty());
  const GroceryProductText juice =
      read_grocery_product_text(data, index_of("Juice/God-Morgon-Apple-Juice"));
  EXPECT_EQ(juice.brand, "God Morgon");  // two words, as the manufacturer field says
  EXPECT_EQ(juice.words, (std::vector<std::string>{"Apple", "Juice"}));
  const GroceryProductText cream =
      read_grocery_product_text(data, index_of("Sour-Cream/Arla-Sour-Cream"));
  EXPECT_EQ(cream.size, "3dl");
}

TEST(GroceryCatalog, EveryPhotoIsOneListingAndPairsStayInTheirSplit) {
  REQUIRE_GROCERY();
  const auto& data = *grocery();
  const SynthCatalog catalog = make_grocery_catalog(data, {});
  ASSERT_EQ(catalog.listings.size(), data.train.size() + data.val.size() + data.test.size());
  std::map<std::string, std::string> product, split_of_listing;
  std::set<std::string> images;
  for (size_t i = 0; i < catalog.listings.size(); ++i) {
    const Listing& l = catalog.listings[i];
    product[l.id] = catalog.product_of[i];
    split_of_listing[l.id] = l.id.substr(0, 2);
    EXPECT_TRUE(fs::path(l.image).is_absolute()) << l.image;
    EXPECT_TRUE(fs::is_regular_file(l.image)) << l.image;
    images.insert(l.image);
    EXPECT_FALSE(l.title.empty());
  }
  EXPECT_EQ(images.size(), catalog.listings.size()) << "a photo used twice";
  const std::map<std::string, std::string> prefix = {
      {"train", "tr"}, {"valid", "va"}, {"test", "te"}};
  std::map<std::string, size_t> positives, hard, random;
  std::set<std::pair<std::string, std::string>> seen;
  for (const LabeledPair& p : catalog.labels) {
    ASSERT_TRUE(prefix.count(p.split)) << p.split;
    EXPECT_EQ(split_of_listing[p.id_a], prefix.at(p.split))
        << p.id_a << " in a " << p.split << " pair";
    EXPECT_EQ(split_of_listing[p.id_b], prefix.at(p.split))
        << p.id_b << " in a " << p.split << " pair";
    EXPECT_NE(p.id_a, p.id_b);
    EXPECT_EQ(p.match, product[p.id_a] == product[p.id_b]) << p.id_a << " " << p.id_b;
    EXPECT_TRUE(seen.insert(std::minmax(p.id_a, p.id_b)).second) << "pair twice: " << p.id_a;
    const auto coarse = [&](const std::string& id) {
      return product[id].substr(0, product[id].find('/'));
    };
    if (p.match) {
      ++positives[p.split];
    } else {
      ++(coarse(p.id_a) == coarse(p.id_b) ? hard : random)[p.split];
    }
  }
  for (const char* split : {"train", "valid", "test"}) {
    EXPECT_GT(positives[split], 0u) << split;
    // 1 positive : 2 hard : 1 random per listing, less the repeats and the fallbacks of products
    // alone in their coarse class.
    EXPECT_GT(hard[split], positives[split]) << split;
    EXPECT_GT(random[split], positives[split] / 2) << split;
  }
}

TEST(GroceryCatalog, TitlesAreSellerVariantsThatSometimesLoseWhatTellsProductsApart) {
  REQUIRE_GROCERY();
  const SynthCatalog catalog = make_grocery_catalog(*grocery(), {});
  std::map<std::string, std::set<std::string>> titles_of;
  std::map<std::string, std::set<std::string>> products_of_title;
  size_t with_brand_word = 0, with_size = 0;
  for (size_t i = 0; i < catalog.listings.size(); ++i) {
    const std::string& title = catalog.listings[i].title;
    titles_of[catalog.product_of[i]].insert(title);
    products_of_title[title].insert(catalog.product_of[i]);
    std::string lower;
    for (char c : title) lower += char(std::tolower(static_cast<unsigned char>(c)));
    if (lower.find("arla") != std::string::npos || lower.find("tropicana") != std::string::npos)
      ++with_brand_word;
    if (lower.find_first_of("0123456789") != std::string::npos) ++with_size;
  }
  // Sellers disagree: many spellings per product, not one template.
  for (const auto& [product, titles] : titles_of) EXPECT_GE(titles.size(), 5u) << product;
  // Some titles are shared by two products (a dropped word or brand makes them identical), so
  // text alone cannot be perfect; but that is the exception.
  size_t ambiguous = 0;
  for (const auto& [title, products] : products_of_title) ambiguous += products.size() > 1;
  EXPECT_GT(ambiguous, 0u);
  EXPECT_LT(ambiguous, products_of_title.size() / 10);
  EXPECT_GT(with_brand_word, catalog.listings.size() / 3);
  EXPECT_LT(with_size, catalog.listings.size());
}

TEST(GroceryCatalog, SameSeedSameBytesOtherSeedOtherTitles) {
  REQUIRE_GROCERY();
  const fs::path dir = fs::temp_directory_path() / ("doppel_grocery_" + std::to_string(::getpid()));
  GroceryCatalogOptions options;
  options.iconic_listings = true;
  write_synth_catalog(make_grocery_catalog(*grocery(), options), dir / "a");
  write_synth_catalog(make_grocery_catalog(*grocery(), options), dir / "b");
  options.seed = 2;
  write_synth_catalog(make_grocery_catalog(*grocery(), options), dir / "c");
  for (const char* file : {"listings.csv", "pairs.csv", "clusters.csv"}) {
    EXPECT_EQ(read_file(dir / "a" / file), read_file(dir / "b" / file)) << file;
    EXPECT_NE(read_file(dir / "a" / file), read_file(dir / "c" / file)) << file;
  }
  const std::string listings = read_file(dir / "a" / "listings.csv");
  EXPECT_TRUE(listings.starts_with("id,title,description,brand,price,image\n"));
  EXPECT_NE(listings.find("\nic31,"), std::string::npos) << "catalogue listings";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace doppel
