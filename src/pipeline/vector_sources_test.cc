// VectorSources: the digest that tells `doppel embed` which stored vectors are stale, and
// embed_text encoding only those.
#include "pipeline/vector_sources.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "catalog/test_dir.h"
#include "pipeline/ingest_job.h"
#include "pipeline/text_jobs.h"
#include "pipeline/workspace.h"
#include "util/error.h"

namespace doppel {
namespace {

namespace fs = std::filesystem;
using testing::TestDir;

Listing listing(std::string id, std::string title) {
  Listing l;
  l.id = std::move(id);
  l.title = std::move(title);
  return l;
}

TEST(VectorSources, TextDigestFollowsEveryTextFieldAndTheModelButNotTheImage) {
  TestDir dir;
  dir.write("model/config.json", "{}");
  const auto sources = VectorSources::for_text(dir.path() / "model");
  const Listing base = listing("a", "Lamp 40W");
  const uint64_t digest = sources.of(base);
  EXPECT_NE(digest, 0u);
  EXPECT_EQ(sources.of(base), digest);

  Listing other_id = base;
  other_id.id = "b";
  EXPECT_EQ(sources.of(other_id), digest);  // the id is no input of a vector
  Listing other_image = base;
  other_image.image = "lamp.jpg";
  EXPECT_EQ(sources.of(other_image), digest);

  for (auto change :
       {+[](Listing& l) { l.title = "Lamp 60W"; }, +[](Listing& l) { l.description = "bright"; },
        +[](Listing& l) { l.brand = "Acme"; }, +[](Listing& l) { l.category = "lighting"; },
        +[](Listing& l) { l.model_number = "L40"; }, +[](Listing& l) { l.price = 9.5; },
        +[](Listing& l) {
          l.title = "Lamp";
          l.description = " 40W";
        }}) {
    Listing changed = base;
    change(changed);
    EXPECT_NE(sources.of(changed), digest) << changed.title << "|" << changed.description;
  }
  Listing priced = base, other_price = base;
  priced.price = 9.5;
  other_price.price = 9.75;
  EXPECT_NE(sources.of(priced), sources.of(other_price));

  dir.write("model/config.json", "{ }");  // a retrained model: every digest moves
  EXPECT_NE(VectorSources::for_text(dir.path() / "model").of(base), digest);
  fs::create_directories(dir.path() / "model" / "checkpoints");  // subfolders do not count
  dir.write("model/checkpoints/step.bin", "x");
  dir.write("model/config.json", "{}");
  EXPECT_EQ(VectorSources::for_text(dir.path() / "model").of(base), digest);
  EXPECT_THROW(VectorSources::for_text(dir.path() / "absent"), Error);
}

TEST(VectorSources, ImageDigestFollowsTheReferenceAndTheFileItNames) {
  TestDir dir;
  dir.write("model/config.json", "{}");
  const auto sources = VectorSources::for_image(dir.path() / "model");
  Listing l = listing("a", "Lamp");
  l.image = dir.write("lamp.jpg", "pixels").string();
  const uint64_t digest = sources.of(l);
  Listing retitled = l;
  retitled.title = "Desk lamp";
  EXPECT_EQ(sources.of(retitled), digest);  // the text is no input of an image vector

  dir.write("lamp.jpg", "other pixels");  // rewritten in place: another size
  EXPECT_NE(sources.of(l), digest);
  Listing url = l;
  url.image = "https://example.com/lamp.jpg";
  Listing other_url = l;
  other_url.image = "https://example.com/lamp2.jpg";
  EXPECT_NE(sources.of(url), sources.of(other_url));
  Listing missing = l;
  missing.image = (dir.path() / "gone.jpg").string();
  EXPECT_NE(sources.of(missing), 0u);
}

TEST(VectorSources, KeepStaleKeepsListingsWithoutAVectorOrWithAnotherDigest) {
  TestDir dir;
  dir.write("model/config.json", "{}");
  const auto sources = VectorSources::for_text(dir.path() / "model");
  std::vector<Listing> listings = {listing("a", "A"), listing("b", "B"), listing("c", "C")};
  for (int i = 0; i < 3; ++i) listings[i].key = i + 1;
  const std::unordered_map<int64_t, uint64_t> stored = {
      {1, sources.of(listings[0])}, {2, sources.of(listings[0])}};  // b's row is from a's text
  sources.keep_stale(listings, stored);
  ASSERT_EQ(listings.size(), 2u);
  EXPECT_EQ(listings[0].id, "b");
  EXPECT_EQ(listings[1].id, "c");
}

TEST(EmbedText, EncodesOnlyWhatChangedUnlessAskedForAll) {
  TestDir dir;
  const auto csv = dir.write("listings.csv",
                             "id,title,price\n"
                             "a,Acme lamp 40W,9.5\n"
                             "b,Acme desk 120cm,80\n"
                             "c,Zeta chair black,45\n");
  auto ws = Workspace::init(dir.path() / "ws");
  ingest_file(ws, csv, {}, /*strict=*/true);
  ClassicalTextEncoder::Options text;
  text.hash_bits = 12;
  text.fold_dim = 64;
  text.out_dim = 2;
  train_tfidf(ws, text);

  EXPECT_EQ(embed_text(ws).encoded, 3u);
  const auto first = ws.catalog().vectors("text");
  EXPECT_EQ(embed_text(ws).encoded, 0u);
  EXPECT_EQ(embed_text(ws, TextEncoderChoice::kAuto, EmbedScope::kAll).encoded, 3u);
  EXPECT_EQ(ws.catalog().vectors("text").data, first.data);

  ingest_file(ws, dir.write("changed.csv", "id,title,price\nb,Acme desk 140cm,80\nd,New,1\n"), {},
              true);
  const auto changed = embed_text(ws);
  EXPECT_EQ(changed.listings, 4u);
  EXPECT_EQ(changed.encoded, 2u);  // b's new title and the new d
  EXPECT_EQ(ws.catalog().vectors("text").keys.size(), 4u);

  text.hash_bits = 13;  // a retrained encoder makes every stored vector stale
  train_tfidf(ws, text);
  EXPECT_EQ(embed_text(ws).encoded, 4u);
  text.out_dim = 3;  // at another dim the old vectors go, rather than the embed failing
  train_tfidf(ws, text);
  EXPECT_EQ(embed_text(ws).encoded, 4u);
  EXPECT_EQ(ws.catalog().vectors("text").dim, 3);
}

}  // namespace
}  // namespace doppel
