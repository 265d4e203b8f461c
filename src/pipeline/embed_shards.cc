#include "pipeline/embed_shards.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/progress.h"

namespace doppel {

namespace {

// One space's vectors, written to out_dir/<space>.vectors page by page as the embed hands them
// over. The first page opens the file: it names the encoder and the dim.
class ShardSpaceFile {
 public:
  explicit ShardSpaceFile(std::filesystem::path path) : path_(std::move(path)) {}

  EmbedTarget target(Shard shard) {
    return {.shard = shard,
            .keep = [this](const SpaceVectors& page) { keep(page); },
            .page_size = kEmbedPage};
  }

  size_t rows() const { return writer_ ? writer_->rows() : 0; }

  // Puts the file in place; its fields for the manifest.
  nlohmann::json commit() {
    DOPPEL_CHECK(writer_.has_value(), "{}: no page came (embed_in_pages gives at least one)",
                 path_.string());
    writer_->commit();
    return {{"encoder", encoder_}, {"dim", dim_}, {"file", path_.filename().string()}};
  }

 private:
  void keep(const SpaceVectors& page) {
    if (!writer_) {
      writer_.emplace(path_, page.dim);
      encoder_ = page.encoder;
      dim_ = page.dim;
    }
    writer_->append(page);
  }

  std::filesystem::path path_;
  std::optional<SpaceVectorsWriter> writer_;
  std::string encoder_;
  int dim_ = 0;
};

}  // namespace

EmbedShardSummary embed_shard(Workspace& ws, Shard shard, const std::filesystem::path& out_dir,
                              bool text, bool image, TextEncoderChoice choice, EmbedScope scope) {
  std::filesystem::create_directories(out_dir);
  EmbedShardSummary summary;
  nlohmann::json space_fields = nlohmann::json::object();
  if (text) {
    ShardSpaceFile file(out_dir / "text.vectors");
    summary.listings = embed_text(ws, choice, scope, file.target(shard)).listings;
    summary.text_vectors = file.rows();
    space_fields["text"] = file.commit();
  }
  if (image) {
    ShardSpaceFile file(out_dir / "image.vectors");
    summary.images = embed_images(ws, scope, file.target(shard));
    summary.listings = summary.images.listings;
    space_fields["image"] = file.commit();
  }
  const nlohmann::json fields = {{"spaces", space_fields}};
  write_shard_manifest(
      out_dir, {"embed", shard, catalog_digest(ws.catalog()), summary.listings, fields.dump()});
  return summary;
}

EmbedMergeSummary merge_embed_shards(Workspace& ws, std::span<const std::filesystem::path> dirs) {
  const auto manifests = read_complete_shard_set(dirs);
  if (manifests.front().job != "embed") {
    fail("{}: a {} shard, not an embed shard", dirs.front().string(), manifests.front().job);
  }
  check_same_catalog(manifests.front(), dirs.front(), catalog_digest(ws.catalog()));
  const auto first_spaces = nlohmann::json::parse(manifests.front().fields).at("spaces");
  struct SpaceFile {
    std::filesystem::path path;
    std::string space, encoder;
  };
  std::vector<SpaceFile> files;
  EmbedMergeSummary summary;
  summary.shards = dirs.size();
  for (size_t i = 0; i < dirs.size(); ++i) {
    const auto spaces = nlohmann::json::parse(manifests[i].fields).at("spaces");
    for (const auto& [space, f] : spaces.items()) {
      if (!first_spaces.contains(space) || first_spaces[space].at("encoder") != f.at("encoder") ||
          first_spaces[space].at("dim") != f.at("dim")) {
        fail("{}: its {} vectors come from encoder {} ({}-d), unlike those of {}", dirs[i].string(),
             space, f.at("encoder").dump(), f.at("dim").dump(), dirs.front().string());
      }
      SpaceFile file{dirs[i] / f.at("file").get<std::string>(), space,
                     f.at("encoder").get<std::string>()};
      // Checks the file's structure now, so that a damaged shard stops the merge before it
      // stores anything; the file is read again below, one at a time.
      const SpaceVectorsReader reader(file.path, file.space, file.encoder);
      if (reader.dim() != f.at("dim").get<int>()) {
        fail("{}: holds {}-d vectors, its manifest says {}", file.path.string(), reader.dim(),
             f.at("dim").dump());
      }
      (space == "image" ? summary.image_vectors : summary.text_vectors) += reader.rows();
      if (space == "image") summary.image_removed += reader.removed();
      files.push_back(std::move(file));
    }
    if (spaces.size() != first_spaces.size()) {
      fail("{}: holds {} vector spaces, {} holds {}", dirs[i].string(), spaces.size(),
           dirs.front().string(), first_spaces.size());
    }
  }
  Progress progress("merge vectors", summary.text_vectors + summary.image_vectors);
  ws.catalog().in_transaction([&] {
    SpaceVectors page;
    for (const SpaceFile& file : files) {
      SpaceVectorsReader reader(file.path, file.space, file.encoder);
      while (reader.next(page)) {
        page.store(ws.catalog());
        progress.advance(page.keys.size());
      }
    }
  });
  progress.finish();
  return summary;
}

}  // namespace doppel
