// Tests of the image side of a workspace: image paths at ingest, the training images and their
// product labels, MAE pretraining and the contrastive stage through the workspace, and embedding
// listings' images (missing and broken images included) into the "image" space.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "catalog/test_dir.h"
#include "image/image_nn_test_util.h"
#include "image/image_test_util.h"
#include "pipeline/embed_shards.h"
#include "pipeline/image_jobs.h"
#include "pipeline/ingest_job.h"
#include "pipeline/workspace.h"
#include "util/error.h"

namespace doppel {
namespace {

namespace fs = std::filesystem;
using doppel::testing::TestDir;

// A workspace of 8 listings: p0..p5 with their own photos, where p0~p1 and p2~p3 are labelled
// matches (train) and p4~p5 a match of the valid split; p6 without an image; p7 with a truncated
// PNG. Relative image paths, resolved at ingest against the catalog file's folder.
class ImageJobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string csv = "id,title,image\n";
    for (int i = 0; i < 6; ++i) {
      const std::string name = "photos/" + std::to_string(i) + ".png";
      dir_.write("data/" + name, doppel::testing::encode(doppel::testing::shape_photo(i), ".png"));
      csv += "p" + std::to_string(i) + ",product " + std::to_string(i) + "," + name + "\n";
    }
    const std::string png = doppel::testing::encode(doppel::testing::shape_photo(7), ".png");
    dir_.write("data/photos/broken.png", png.substr(0, png.size() / 2));
    csv += "p6,product without photo,\np7,product with a broken photo,photos/broken.png\n";
    dir_.write("data/listings.csv", csv);
    dir_.write("data/pairs.csv",
               "id_a,id_b,label,split\np0,p1,1,train\np2,p3,1,train\np0,p2,0,train\n"
               "p4,p5,1,valid\n");
    for (int i = 10; i < 14; ++i) {
      dir_.write("extra/" + std::to_string(i) + ".png",
                 doppel::testing::encode(doppel::testing::shape_photo(i), ".png"));
    }
    dir_.write("extra/notes.txt", "not an image");
    Workspace ws = Workspace::init(dir_.path() / "ws");
    ingest_file(ws, dir_.path() / "data/listings.csv", {}, false);
    ingest_file(ws, dir_.path() / "data/pairs.csv", {}, false);
  }
  Workspace ws() const { return Workspace::open(dir_.path() / "ws"); }
  std::string photo(int i) const {
    return (dir_.path() / "data/photos" / (std::to_string(i) + ".png")).string();
  }

  TestDir dir_;
};

TEST_F(ImageJobsTest, IngestStoresRelativeImagePathsAsAbsolutePathsBesideTheCatalogFile) {
  auto workspace = ws();
  EXPECT_EQ(workspace.catalog().get("p3")->image, photo(3));
  EXPECT_EQ(workspace.catalog().get("p6")->image, "");
}

TEST_F(ImageJobsTest, TrainingImagesAreTheListingsPhotosThenTheExtraOnesWithoutRepeats) {
  auto workspace = ws();
  const std::string extra = (dir_.path() / "extra").string();
  const std::vector<std::string> extras = {extra, photo(0)};
  const auto refs = training_image_refs(workspace, extras);
  ASSERT_EQ(refs.size(), 7u + 4u);  // p0..p5, broken.png, 4 extra photos; photo(0) once
  EXPECT_EQ(refs[0], photo(0));
  EXPECT_EQ(refs[7], (dir_.path() / "extra/10.png").string());
  EXPECT_THROW(training_image_refs(workspace, std::vector<std::string>{"/no/such/folder"}), Error);
}

TEST_F(ImageJobsTest, ProductLabelsComeFromTrainingMatchesOnly) {
  auto workspace = ws();
  const std::vector<std::string> refs = {photo(0), photo(1), photo(2), photo(3),
                                         photo(4), photo(5), "/elsewhere.png"};
  const auto labels = image_product_labels(workspace, refs);
  EXPECT_GE(labels[0], 0);
  EXPECT_EQ(labels[0], labels[1]);
  EXPECT_GE(labels[2], 0);
  EXPECT_EQ(labels[2], labels[3]);
  EXPECT_NE(labels[0], labels[2]);  // a labelled non-match stays apart
  EXPECT_EQ(labels[4], -1);         // the valid split's match is not trained on
  EXPECT_EQ(labels[5], -1);
  EXPECT_EQ(labels[6], -1);
}

TEST_F(ImageJobsTest, TrainThenEmbedFillsTheImageSpaceAndSkipsMissingAndBrokenImages) {
  auto workspace = ws();
  EXPECT_THROW(embed_images(workspace), Error);  // no model yet: says to train one
  EXPECT_THROW(finetune_image_model(workspace, {}, {}, false), Error);

  const std::vector<std::string> extra = {(dir_.path() / "extra").string()};
  auto mae = pretrain_image_model(workspace, doppel::testing::quick_mae(6),
                                  doppel::testing::tiny_config(), doppel::testing::tiny_encoder(),
                                  extra, /*resume=*/false);
  EXPECT_EQ(mae.steps, 6);
  EXPECT_EQ(mae.images, 10u);  // 6 photos + 4 extra
  EXPECT_EQ(mae.skipped_images, 1u);
  ContrastiveOptions contrastive;
  contrastive.batch_size = 4;
  contrastive.max_steps = 2;
  EXPECT_EQ(finetune_image_model(workspace, contrastive, {}, false).steps, 2);

  auto report = embed_images(workspace, EmbedScope::kStale, {}, /*batch_size=*/3);
  EXPECT_EQ(report.listings, 8u);
  EXPECT_EQ(report.up_to_date, 0u);
  EXPECT_EQ(report.embedded, 6u);
  EXPECT_EQ(report.without_image, 1u);
  EXPECT_EQ(report.unreadable, 1u);
  const auto vectors = workspace.catalog().vectors("image");
  ASSERT_EQ(vectors.keys.size(), 6u);
  EXPECT_EQ(vectors.dim, doppel::testing::tiny_encoder().out_dim);
  double norm = 0;
  for (int d = 0; d < vectors.dim; ++d) norm += vectors.data[d] * vectors.data[d];
  EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-4);
  EXPECT_TRUE(workspace.catalog().meta("image_encoder").has_value());

  // A photo that breaks later takes its listing's image vector with it; the text side is untouched.
  // The other photos are unchanged, so their vectors are not encoded again.
  // Three listings a page: what a catalog larger than a page meets.
  fs::resize_file(photo(5), 20);
  report = embed_images(workspace, EmbedScope::kStale, {.shard = {}, .keep = {}, .page_size = 3});
  EXPECT_EQ(report.listings, 8u);
  EXPECT_EQ(report.up_to_date, 5u);
  EXPECT_EQ(report.embedded, 0u);
  EXPECT_EQ(report.unreadable, 2u);
  EXPECT_EQ(workspace.catalog().vectors("image").keys.size(), 5u);
  report = embed_images(workspace, EmbedScope::kAll);
  EXPECT_EQ(report.up_to_date, 0u);
  EXPECT_EQ(report.embedded, 5u);

  // Embed shards carry what a broken photo takes away: p4's photo breaks, three shards encode
  // what is stale (p4 and the listings without a readable photo), and their merge drops p4's
  // vector and keeps the others, as an unsharded embed would.
  const auto before = workspace.catalog().vectors("image");
  fs::resize_file(photo(4), 20);
  std::vector<fs::path> dirs;
  ImageEmbedReport shards;
  for (int i = 0; i < 3; ++i) {
    dirs.push_back(dir_.path() / ("shard-" + std::to_string(i)));
    const auto r = embed_shard(workspace, Shard{i, 3}, dirs.back(), /*text=*/false, /*image=*/true);
    shards.listings += r.images.listings;
    shards.up_to_date += r.images.up_to_date;
    shards.unreadable += r.images.unreadable;
    shards.without_image += r.images.without_image;
  }
  EXPECT_EQ(shards.listings, 8u);
  EXPECT_EQ(shards.up_to_date, 4u);     // p0..p3
  EXPECT_EQ(shards.unreadable, 3u);     // p4, p5, p7
  EXPECT_EQ(shards.without_image, 1u);  // p6
  EXPECT_EQ(workspace.catalog().vectors("image").keys, before.keys) << "a shard stored vectors";
  const auto merged = merge_embed_shards(workspace, dirs);
  EXPECT_EQ(merged.image_vectors, 0u);
  EXPECT_EQ(merged.image_removed, 4u);
  const auto after = workspace.catalog().vectors("image");
  ASSERT_EQ(after.keys.size(), 4u);
  EXPECT_EQ(after.keys, std::vector<int64_t>(before.keys.begin(), before.keys.begin() + 4));
  EXPECT_EQ(after.data,
            std::vector<float>(before.data.begin(), before.data.begin() + 4 * after.dim));
}

}  // namespace
}  // namespace doppel
