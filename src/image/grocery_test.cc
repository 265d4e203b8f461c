#include "image/grocery.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <set>

#include "image/image_test_util.h"
#include "util/error.h"
#include "util/expect_error.h"
#include "util/files.h"

namespace doppel {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path kGrocery = "../shared/data/grocerystore-packages";

TEST(LoadGrocery, PublishedSplitOf31Products) {
  if (!fs::exists(kGrocery)) GTEST_SKIP() << kGrocery << " not present";
  const GroceryDataset data = load_grocery(kGrocery);
  EXPECT_EQ(data.products.size(), 31u);
  EXPECT_EQ(data.iconic.size(), 31u);
  EXPECT_EQ(data.train.size(), 864u);
  EXPECT_EQ(data.val.size(), 100u);
  EXPECT_EQ(data.test.size(), 781u);
  EXPECT_EQ(data.products.front(), "Juice/Bravo-Apple-Juice");
  EXPECT_EQ(data.iconic.front().filename(), "Bravo-Apple-Juice_Iconic.jpg");
  // Every photo lies in its product's folder; val covers 20 products, test all 31.
  for (const auto* split : {&data.train, &data.val, &data.test}) {
    for (const GroceryPhoto& p : *split) {
      ASSERT_THAT(p.path.parent_path().string(),
                  HasSubstr("Packages/" + data.products[size_t(p.product)]));
    }
  }
  std::set<int> val_products, test_products;
  for (const auto& p : data.val) val_products.insert(p.product);
  for (const auto& p : data.test) test_products.insert(p.product);
  EXPECT_EQ(val_products.size(), 20u);
  EXPECT_EQ(test_products.size(), 31u);
}

// A dataset folder with the published counts, empty image files and one classes.csv line per
// product, built once for the suite; a test that spoils a file puts it back with ScopedContent.
class FakeGrocery : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fs::remove_all(root_);
    std::string classes =
        "Class Name (str),Class ID (int),Coarse Class Name (str),"
        "Coarse Class ID (int),Iconic Image Path (str),Product Description Path (str)\n"
        "Apple,0,Apple,0,/iconic-images-and-descriptions/Fruit/Apple/Apple/A_Iconic.jpg,/d.txt\n";
    for (int p = 0; p < 31; ++p) {
      const std::string iconic =
          fmt::format("/iconic-images-and-descriptions/Packages/Milk/P{}/P{}_Iconic.jpg", p, p);
      classes += fmt::format("P{},{},Milk,20,{},/d.txt\n", p, p + 10, iconic);
      touch(root_ / fs::path(iconic).relative_path());
    }
    write_file_atomic(root_ / "classes.csv", classes);
    write_file_atomic(root_ / "train.txt", split_list("train", GroceryDataset::kTrain));
    write_file_atomic(root_ / "val.txt", split_list("val", GroceryDataset::kVal));
    write_file_atomic(root_ / "test.txt", split_list("test", GroceryDataset::kTest));
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  static void touch(const fs::path& path) {
    fs::create_directories(path.parent_path());
    create_file(path);
  }

  // The lines of <split>.txt for n photos (creating their files) after one fruit line.
  static std::string split_list(const std::string& split, size_t n) {
    std::string lines = split + "/Fruit/Apple/Apple/Apple_001.jpg, 0, 0\n";  // skipped
    for (size_t i = 0; i < n; ++i) {
      const int p = int(i % 31);
      const std::string path = fmt::format("{}/Packages/Milk/P{}/P{}_{:03}.jpg", split, p, p, i);
      lines += fmt::format("{}, {}, 20\n", path, p + 10);
      touch(root_ / path);
    }
    return lines;
  }

  // Replaces a file's content (std::nullopt: removes the file) until the end of the scope.
  class ScopedContent {
   public:
    ScopedContent(fs::path path, const std::optional<std::string>& content)
        : path_(std::move(path)), original_(read_file(path_)) {
      if (content) {
        write_file_atomic(path_, *content);
      } else {
        fs::remove(path_);
      }
    }
    ~ScopedContent() { write_file_atomic(path_, original_); }

   private:
    fs::path path_;
    std::string original_;
  };

  // Expects load_grocery to fail with a message that contains every one of `parts`.
  static void expect_grocery_error(const std::vector<std::string>& parts) {
    expect_error([] { load_grocery(root_); }, parts);
  }

  // Per process: ctest runs each test case as its own process, side by side.
  static inline const fs::path root_ =
      fs::temp_directory_path() / fmt::format("doppel_grocery_test.{}", ::getpid());
};

TEST_F(FakeGrocery, LoadsLabelsFromFolders) {
  const GroceryDataset data = load_grocery(root_);
  EXPECT_EQ(data.products[3], "Milk/P3");
  EXPECT_EQ(data.test[34].product, 3);
  EXPECT_EQ(data.test[34].path, root_ / "test/Packages/Milk/P3/P3_034.jpg");
}

TEST_F(FakeGrocery, MismatchedClassIdIsAnError) {
  std::string text = read_file(root_ / "val.txt");
  text.replace(text.find("P0_000.jpg, 10"), 14, "P0_000.jpg, 11");
  const ScopedContent spoiled(root_ / "val.txt", text);
  expect_grocery_error({"val.txt:2", "class id 11 does not name the folder Milk/P0"});
}

TEST_F(FakeGrocery, MissingImageIsAnError) {
  {
    const ScopedContent removed(root_ / "test/Packages/Milk/P1/P1_001.jpg", std::nullopt);
    expect_grocery_error({"test.txt:3", "P1_001.jpg does not exist"});
  }
  const ScopedContent removed(
      root_ / "iconic-images-and-descriptions/Packages/Milk/P5/P5_Iconic.jpg", std::nullopt);
  expect_grocery_error({"classes.csv:8", "P5_Iconic.jpg does not exist"});
}

TEST_F(FakeGrocery, OtherCountsAreAnError) {
  {
    const ScopedContent fewer(root_ / "train.txt", split_list("train", 10));
    expect_grocery_error({"train.txt", "expected 864 train photos", "found 10"});
  }
  const ScopedContent none(root_ / "classes.csv", "header\n");
  expect_grocery_error({"classes.csv", "expected 31 packaged products", "found 0"});
}

// evaluate_grocery on a tiny dataset of real image files where the product is the colour.
TEST(EvaluateGrocery, ScoresAllThreeProtocols) {
  const fs::path root = fs::temp_directory_path() / "doppel_grocery_eval_test";
  fs::create_directories(root);
  const cv::Scalar colours[] = {{255, 0, 0}, {0, 200, 0}, {20, 20, 230}};
  auto photo = [&](const std::string& name, int product, int shade) {
    const fs::path path = root / name;
    write_file_atomic(
        path,
        testing::encode(cv::Mat(24, 24, CV_8UC3, colours[product] * (1 - 0.1 * shade)), ".png"));
    return GroceryPhoto{path, product};
  };
  GroceryDataset data;
  for (int p = 0; p < 3; ++p) {
    data.products.push_back(fmt::format("C/P{}", p));
    data.iconic.push_back(photo(fmt::format("iconic{}.png", p), p, 0).path);
    data.test.push_back(photo(fmt::format("test{}a.png", p), p, 1));
    data.test.push_back(photo(fmt::format("test{}b.png", p), p, 2));
    data.val.push_back(photo(fmt::format("val{}.png", p), p, 1));
    data.train.push_back(photo(fmt::format("train{}.png", p), p, 3));
  }
  const GroceryScores s =
      evaluate_grocery(data, rgb_thumbnail_method(), {.batch_size = 4, .decode = {}});
  EXPECT_EQ(s.images, 15u);
  for (const RetrievalScores* r : {&s.a, &s.b, &s.c, &s.b_val, &s.c_val}) {
    EXPECT_EQ(r->recall_at_1, 1.0);
    EXPECT_EQ(r->mean_average_precision, 1.0);
  }
  EXPECT_EQ(s.a.queries, 6u);
  EXPECT_EQ(s.b.queries, 6u);
  EXPECT_EQ(s.c.queries, 3u);
  EXPECT_EQ(s.b_val.queries, 3u);
  EXPECT_EQ(s.c_val.queries, 3u);
  EXPECT_GT(s.embed_images_per_second, 0);
  EXPECT_GT(s.decode_images_per_second, 0);

  const std::vector<GroceryRow> rows = {{"raw", s}};
  EXPECT_THAT(grocery_table_markdown(rows), HasSubstr("| raw | 1.000 / 1.000 / 1.000 |"));
}

}  // namespace
}  // namespace doppel
