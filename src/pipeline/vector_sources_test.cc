// VectorSources: the digest that tells `doppel embed` which stored vectors are stale, and
// embed_text encoding only those.
#include "pipeline/vector_sources.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "catalog/test_dir.h"
#include "pipeline/ingest_job.h"
#include "pipeline/text_jobs.h"
#include "pipeline/workspace.h"
#include "text/classical_encoder.h"
#include "text/neural_text_encoder.h"
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

// An encoder that reads the title and the brand, nothing else.
class TitleBrandEncoder : public Encoder {
 public:
  std::string name() const override { return "title-brand"; }
  int dim() const override { return 1; }
  void encode(std::span<const Listing> listings, float* out) const override {
    std::fill_n(out, listings.size(), 1.0f);
  }
  std::string input(const Listing& l) const override { return l.title + "|" + l.brand; }
};

TEST(VectorSources, DigestFollowsTheEncodersInputAndModelFilesOnly) {
  TestDir dir;
  dir.write("model/config.json", "{}");
  const TitleBrandEncoder encoder;
  const VectorSources sources(encoder, dir.path() / "model");
  const Listing base = listing("a", "Lamp 40W");
  const uint64_t digest = sources.of(base);
  EXPECT_NE(digest, 0u);
  EXPECT_EQ(sources.of(base), digest);

  // What the encoder does not read: the id, the price, the description, the image.
  for (auto change :
       {+[](Listing& l) { l.id = "b"; }, +[](Listing& l) { l.price = 9.5; },
        +[](Listing& l) { l.description = "bright"; }, +[](Listing& l) { l.image = "lamp.jpg"; }}) {
    Listing changed = base;
    change(changed);
    EXPECT_EQ(sources.of(changed), digest);
  }
  for (auto change :
       {+[](Listing& l) { l.title = "Lamp 60W"; }, +[](Listing& l) { l.brand = "Acme"; }}) {
    Listing changed = base;
    change(changed);
    EXPECT_NE(sources.of(changed), digest) << changed.title << "|" << changed.brand;
  }

  dir.write("model/config.json", "{ }");  // a retrained model: every digest moves
  EXPECT_NE(VectorSources(encoder, dir.path() / "model").of(base), digest);
  fs::create_directories(dir.path() / "model" / "checkpoints");  // subfolders do not count
  dir.write("model/checkpoints/step.bin", "x");
  dir.write("model/config.json", "{}");
  EXPECT_EQ(VectorSources(encoder, dir.path() / "model").of(base), digest);
  EXPECT_THROW(VectorSources(encoder, dir.path() / "absent"), Error);
}

TEST(VectorSources, TextEncodersReadWhatTheirInputSays) {
  // The classical encoder reads the description, the neural one does not; neither the price.
  Listing a = listing("a", "Lamp 40W"), b = a;
  b.description = "a bright desk lamp";
  ClassicalTextEncoder::Options options;
  options.hash_bits = 10;
  options.fold_dim = 16;
  options.out_dim = 1;
  const auto classical = ClassicalTextEncoder::fit(std::vector<Listing>{a, b}, options);
  EXPECT_NE(classical.input(a), classical.input(b));
  EXPECT_EQ(model_text(a), model_text(b));
  Listing priced = a;
  priced.price = 3;
  EXPECT_EQ(classical.input(a), classical.input(priced));
}

TEST(VectorSources, ImageDigestFollowsTheReferenceAndTheFileItNames) {
  TestDir dir;
  dir.write("model/config.json", "{}");
  const TitleBrandEncoder reads_title;  // a stand-in: its input ignores the image
  const VectorSources sources(reads_title, dir.path() / "model", /*image_files=*/true);
  Listing l = listing("a", "Lamp");
  l.image = dir.write("lamp.jpg", "pixels").string();
  const uint64_t digest = sources.of(l);
  dir.write("lamp.jpg", "other pixels");  // rewritten in place: another size
  EXPECT_NE(sources.of(l), digest);
  Listing url = l, other_url = l;
  url.image = "https://example.com/lamp.jpg";
  other_url.image = "https://example.com/lamp2.jpg";
  EXPECT_EQ(sources.of(url), sources.of(other_url));  // a URL has no file state
  Listing missing = l;
  missing.image = (dir.path() / "gone.jpg").string();
  EXPECT_NE(sources.of(missing), sources.of(l));
  EXPECT_NE(sources.of(missing), 0u);
}

TEST(VectorSources, KeepStaleKeepsListingsWithoutAVectorOrWithAnotherDigest) {
  TestDir dir;
  dir.write("model/config.json", "{}");
  const TitleBrandEncoder encoder;
  const VectorSources sources(encoder, dir.path() / "model");
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

  ingest_file(ws,
              dir.write("changed.csv",
                        "id,title,price\nb,Acme desk 140cm,80\nd,New,1\n"
                        "c,Zeta chair black,39\n"),
              {}, true);
  // One listing a page: what a catalog larger than a page meets.
  const auto changed = embed_text(ws, TextEncoderChoice::kAuto, EmbedScope::kStale,
                                  {.shard = {}, .keep = {}, .page_size = 1});
  EXPECT_EQ(changed.listings, 4u);
  EXPECT_EQ(changed.encoded, 2u);  // b's new title and the new d; not c's new price
  EXPECT_EQ(ws.catalog().vectors("text").keys.size(), 4u);

  text.hash_bits = 13;  // a retrained encoder makes every stored vector stale
  train_tfidf(ws, text);
  EXPECT_EQ(embed_text(ws).encoded, 4u);
  text.out_dim = 3;  // at another dim the old vectors go, rather than the embed failing
  train_tfidf(ws, text);
  EXPECT_EQ(embed_text(ws, TextEncoderChoice::kAuto, EmbedScope::kStale,
                       {.shard = {}, .keep = {}, .page_size = 3})
                .encoded,
            4u);
  EXPECT_EQ(ws.catalog().vectors("text").dim, 3);
  EXPECT_EQ(ws.catalog().vectors("text").keys.size(), 4u);  // the second page's row kept
}

}  // namespace
}  // namespace doppel
