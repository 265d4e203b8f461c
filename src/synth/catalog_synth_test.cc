#include "synth/catalog_synth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <set>

#include "image/image_io.h"
#include "util/files.h"

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

TEST(CatalogSynth, ImagesWrittenDecodableAndSeeded) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("doppel_synth_images_" + std::to_string(::getpid()));
  SynthOptions options;
  options.products = 12;
  SynthCatalog a = synthesize_catalog(options), b = synthesize_catalog(options);
  SynthImageOptions images;
  images.side = 96;
  write_synth_images(a, dir / "a", images);
  write_synth_images(b, dir / "b", images);
  ASSERT_EQ(a.looks.size(), a.listings.size());
  for (const Listing& l : a.listings) {
    ASSERT_EQ(l.image, "images/" + l.id + ".jpg");
    const cv::Mat photo = load_image(dir / "a" / l.image);
    ASSERT_FALSE(photo.empty()) << l.image;
    EXPECT_EQ(photo.rows, 96);
    EXPECT_EQ(photo.cols, 96);
    EXPECT_EQ(read_file(dir / "a" / l.image), read_file(dir / "b" / l.image)) << l.image;
  }
  // Two listings of one product are two different photos of the same packshot.
  for (size_t i = 1; i < a.listings.size(); ++i) {
    if (a.product_of[i] != a.product_of[i - 1]) continue;
    EXPECT_NE(read_file(dir / "a" / a.listings[i].image),
              read_file(dir / "a" / a.listings[i - 1].image));
    break;
  }
  write_synth_catalog(a, dir / "a");
  EXPECT_NE(read_file(dir / "a" / "listings.csv").find(",images/L000000.jpg\n"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(Packshot, AFunctionOfTheProductThatShowsItsColour) {
  PackshotSpec spec{"Samsung", "Galaxy S21", "Smartphone", "128GB", "Black"};
  const cv::Mat one = render_packshot(spec, 160), again = render_packshot(spec, 160);
  EXPECT_EQ(cv::norm(one, again, cv::NORM_L1), 0.0);
  spec.colour = "White";
  const cv::Mat white = render_packshot(spec, 160);
  spec.colour = "Black";
  spec.size = "256GB";
  const cv::Mat bigger = render_packshot(spec, 160);
  // A colour variant differs far more than a size variant (only its printed size changes).
  EXPECT_GT(cv::norm(one, white, cv::NORM_L1), 5 * cv::norm(one, bigger, cv::NORM_L1));
  EXPECT_GT(cv::norm(one, bigger, cv::NORM_L1), 0.0);
}

}  // namespace doppel
