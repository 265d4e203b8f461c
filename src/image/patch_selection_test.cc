#include "image/patch_selection.h"

#include <gtest/gtest.h>

#include <set>

#include "util/error.h"

namespace doppel {
namespace {

// A distinct colour per cell of a 3×3 grid.
cv::Vec3b cell_colour(int cell) {
  return cv::Vec3b(uchar(20 + 25 * cell), uchar(240 - 20 * cell), uchar(cell % 2 ? 200 : 40));
}

// A square image of 3×3 uniformly coloured cells, side 3 × cell pixels.
cv::Mat nine_colours(int cell) {
  cv::Mat img(3 * cell, 3 * cell, CV_8UC3);
  for (int i = 0; i < 9; ++i) {
    img(cv::Rect((i % 3) * cell, (i / 3) * cell, cell, cell)).setTo(cv::Scalar(cell_colour(i)));
  }
  return img;
}

// True when every pixel of `view` is `colour`.
bool uniform(const cv::Mat& view, const cv::Vec3b& colour) {
  for (int y = 0; y < view.rows; ++y) {
    for (int x = 0; x < view.cols; ++x) {
      if (view.at<cv::Vec3b>(y, x) != colour) return false;
    }
  }
  return true;
}

TEST(SelectPatches, ViewsAreCentreTwoOthersAndWhole) {
  const PatchSelectionOptions o;
  const cv::Mat img = nine_colours(100);  // 300×300, resized to 192: cells stay uniform
  const PatchSelection s = select_patches(img, o, 7);
  ASSERT_EQ(s.cells.size(), 3u);
  ASSERT_EQ(s.views.size(), 4u);
  EXPECT_EQ(s.cells[0], 4);
  EXPECT_NE(s.cells[1], s.cells[2]);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(uniform(s.views[i], cell_colour(s.cells[i]))) << "view " << i;
  }
  for (const cv::Mat& view : s.views) {
    EXPECT_EQ(view.size(), cv::Size(64, 64));
    EXPECT_EQ(view.type(), CV_8UC3);
  }
  // The whole-image view shows all nine cells, each at its place (centre of its 64/3 px block).
  for (int i = 0; i < 9; ++i) {
    const int x = (i % 3) * 64 / 3 + 10, y = (i / 3) * 64 / 3 + 10;
    EXPECT_EQ(s.views[3].at<cv::Vec3b>(y, x), cell_colour(i)) << "cell " << i;
  }
}

TEST(SelectPatches, NonSquareImageUsesItsCentredSquare) {
  // 500×300: the grid lies over columns 100..399, so the centre cell is the middle of the image.
  cv::Mat wide(300, 500, CV_8UC3, cv::Scalar(0, 0, 0));
  nine_colours(100).copyTo(wide(cv::Rect(100, 0, 300, 300)));
  const PatchSelection s = select_patches(wide, PatchSelectionOptions{}, 1);
  EXPECT_TRUE(uniform(s.views[0], cell_colour(4)));
  EXPECT_TRUE(uniform(s.views[1], cell_colour(s.cells[1])));
  // The whole view is letterboxed: the full width, padded above and below with the fill colour.
  const cv::Mat& whole = s.views[3];
  EXPECT_EQ(whole.at<cv::Vec3b>(0, 32), cv::Vec3b(124, 116, 104));
  EXPECT_EQ(whole.at<cv::Vec3b>(32, 2), cv::Vec3b(0, 0, 0));  // the black margin is kept
}

TEST(SelectPatches, SameSeedSameCellsAndEveryOtherCellReachable) {
  const PatchSelectionOptions o;
  const cv::Mat img = nine_colours(30);
  EXPECT_EQ(select_patches(img, o, 42).cells, select_patches(img, o, 42).cells);
  std::set<int> seen;
  std::set<std::vector<int>> pairs;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const auto cells = select_patches(img, o, seed).cells;
    ASSERT_EQ(cells[0], 4);
    ASSERT_NE(cells[1], cells[2]);
    for (int i = 1; i < 3; ++i) {
      ASSERT_NE(cells[i], 4);
      ASSERT_GE(cells[i], 0);
      ASSERT_LT(cells[i], 9);
      seen.insert(cells[i]);
    }
    pairs.insert(cells);
  }
  EXPECT_EQ(seen.size(), 8u);    // all eight non-centre cells
  EXPECT_GT(pairs.size(), 40u);  // 56 ordered pairs exist; different seeds differ
}

TEST(SelectPatches, InferenceUsesTheFixedCells) {
  PatchSelectionOptions o;
  const cv::Mat img = nine_colours(100);
  EXPECT_EQ(select_patches(img, o).cells, (std::vector<int>{4, 1, 7}));
  o.inference_cells = {3, 5};
  const PatchSelection s = select_patches(img, o);
  EXPECT_EQ(s.cells, (std::vector<int>{4, 3, 5}));
  EXPECT_TRUE(uniform(s.views[2], cell_colour(5)));
}

TEST(SelectPatches, OptionsAndCellsAreValidated) {
  const cv::Mat img = nine_colours(30);
  PatchSelectionOptions o;
  const std::vector<int> centre = {4, 1}, twice = {1, 1}, outside = {1, 9}, one = {1};
  EXPECT_THROW(select_patches_with(img, o, centre), Error);
  EXPECT_THROW(select_patches_with(img, o, twice), Error);
  EXPECT_THROW(select_patches_with(img, o, outside), Error);
  EXPECT_THROW(select_patches_with(img, o, one), Error);
  o.grid = 4;
  EXPECT_THROW(o.validate(), Error);
  o = {};
  o.random_cells = 3;  // inference_cells must then name 3 cells
  EXPECT_THROW(o.validate(), Error);
  o.inference_cells = {0, 2, 8};
  EXPECT_NO_THROW(o.validate());
  EXPECT_EQ(select_patches(img, o, 3).views.size(), 5u);
}

TEST(Ablations, FullImageAndRandomPatches) {
  const cv::Mat img = nine_colours(100);
  const cv::Mat full = full_image_view(img, 224);
  EXPECT_EQ(full.size(), cv::Size(224, 224));
  EXPECT_EQ(full.at<cv::Vec3b>(112, 112), cell_colour(4));

  const PatchSelection s = random_patches(img, PatchSelectionOptions{}, 4, 5);
  ASSERT_EQ(s.cells.size(), 4u);
  ASSERT_EQ(s.views.size(), 4u);  // no whole-image view
  EXPECT_EQ(std::set<int>(s.cells.begin(), s.cells.end()).size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_TRUE(uniform(s.views[i], cell_colour(s.cells[i])));
  std::set<int> seen;  // the centre is not forced, but can be drawn
  for (uint64_t seed = 0; seed < 100; ++seed) {
    for (int cell : random_patches(img, PatchSelectionOptions{}, 2, seed).cells) seen.insert(cell);
  }
  EXPECT_EQ(seen.size(), 9u);
  EXPECT_THROW(random_patches(img, PatchSelectionOptions{}, 10, 1), Error);
}

TEST(ToChwFloat, NormalisesPlaneByPlane) {
  cv::Mat img(2, 3, CV_8UC3, cv::Scalar(0, 0, 0));
  img.at<cv::Vec3b>(1, 2) = cv::Vec3b(255, 128, 0);
  std::vector<float> out(18);
  const Normalization norm;
  to_chw_float(img, out, norm);
  EXPECT_NEAR(out[0], -0.485f / 0.229f, 1e-5);                      // R plane, pixel (0,0)
  EXPECT_NEAR(out[5], (1.0f - 0.485f) / 0.229f, 1e-5);              // R plane, pixel (1,2)
  EXPECT_NEAR(out[6 + 5], (128 / 255.0f - 0.456f) / 0.224f, 1e-5);  // G plane
  EXPECT_NEAR(out[12 + 5], -0.406f / 0.225f, 1e-5);                 // B plane
  std::vector<float> wrong(17);
  EXPECT_THROW(to_chw_float(img, wrong, norm), Error);

  const cv::Mat second(2, 3, CV_8UC3, cv::Scalar(255, 255, 255));
  const std::vector<cv::Mat> views = {img, second};
  std::vector<float> both(36);
  views_to_chw_float(views, both, norm);
  EXPECT_EQ(std::vector<float>(both.begin(), both.begin() + 18), out);
  EXPECT_NEAR(both[18], (1.0f - 0.485f) / 0.229f, 1e-5);
}

}  // namespace
}  // namespace doppel
