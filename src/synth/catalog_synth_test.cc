#include "synth/catalog_synth.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace doppel {

TEST(CatalogSynth, SameSeedSameCatalog) {
  SynthOptions options;
  options.products = 80;
  auto a = synthesize_catalog(options);
  auto b = synthesize_catalog(options);
  ASSERT_EQ(a.listings.size(), b.listings.size());
  for (size_t i = 0; i < a.listings.size(); ++i) EXPECT_EQ(a.listings[i].title, b.listings[i].title);
  options.seed = 8;
  auto c = synthesize_catalog(options);
  EXPECT_NE(a.listings[1].title + a.listings[2].title, c.listings[1].title + c.listings[2].title);
}

TEST(CatalogSynth, LabelsAgreeWithProductsAndSplitsDoNotLeak) {
  SynthOptions options;
  options.products = 200;
  auto catalog = synthesize_catalog(options);
  std::map<std::string, std::string> product;
  for (size_t i = 0; i < catalog.listings.size(); ++i)
    product[catalog.listings[i].id] = catalog.product_of[i];
  std::map<std::string, std::set<std::string>> splits_of_product;
  size_t positives = 0, negatives = 0;
  for (const auto& p : catalog.labels) {
    EXPECT_EQ(p.match, product[p.id_a] == product[p.id_b]) << p.id_a << " " << p.id_b;
    splits_of_product[product[p.id_a]].insert(p.split);
    splits_of_product[product[p.id_b]].insert(p.split);
    (p.match ? positives : negatives)++;
  }
  for (const auto& [id, splits] : splits_of_product) EXPECT_EQ(splits.size(), 1u) << id;
  EXPECT_GT(positives, 50u);
  EXPECT_GT(negatives, positives);
}

}  // namespace doppel
