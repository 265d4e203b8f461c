#include "pipeline/embed_shards.h"

#include <map>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace doppel {

EmbedShardSummary embed_shard(const Workspace& ws, Shard shard,
                              const std::filesystem::path& out_dir, bool text, bool image,
                              TextEncoderChoice choice, EmbedScope scope) {
  const auto listings = shard_listings(ws.catalog(), shard);
  std::vector<SpaceVectors> spaces;
  EmbedShardSummary summary;
  summary.listings = listings.size();
  if (text) {
    spaces.push_back(encode_text(ws, listings, choice, scope));
    summary.text_vectors = spaces.back().keys.size();
  }
  if (image) spaces.push_back(encode_images(ws, listings, scope, summary.images));

  std::filesystem::create_directories(out_dir);
  nlohmann::json space_fields = nlohmann::json::object();
  for (const SpaceVectors& v : spaces) {
    const std::string file = v.space + ".vectors";
    v.save(out_dir / file);
    space_fields[v.space] = {{"encoder", v.encoder}, {"dim", v.dim}, {"file", file}};
  }
  const nlohmann::json fields = {{"spaces", space_fields}};
  write_shard_manifest(
      out_dir, {"embed", shard, catalog_digest(ws.catalog()), listings.size(), fields.dump()});
  return summary;
}

EmbedMergeSummary merge_embed_shards(Workspace& ws, std::span<const std::filesystem::path> dirs) {
  const auto manifests = read_complete_shard_set(dirs);
  if (manifests.front().job != "embed") {
    fail("{}: a {} shard, not an embed shard", dirs.front().string(), manifests.front().job);
  }
  check_same_catalog(manifests.front(), dirs.front(), catalog_digest(ws.catalog()));
  const auto first_spaces = nlohmann::json::parse(manifests.front().fields).at("spaces");
  std::vector<SpaceVectors> loaded;
  for (size_t i = 0; i < dirs.size(); ++i) {
    const auto spaces = nlohmann::json::parse(manifests[i].fields).at("spaces");
    for (const auto& [space, f] : spaces.items()) {
      if (!first_spaces.contains(space) || first_spaces[space].at("encoder") != f.at("encoder") ||
          first_spaces[space].at("dim") != f.at("dim")) {
        fail("{}: its {} vectors come from encoder {} ({}-d), unlike those of {}", dirs[i].string(),
             space, f.at("encoder").dump(), f.at("dim").dump(), dirs.front().string());
      }
      loaded.push_back(SpaceVectors::load(dirs[i] / f.at("file").get<std::string>(), space,
                                          f.at("encoder").get<std::string>()));
    }
    if (spaces.size() != first_spaces.size()) {
      fail("{}: holds {} vector spaces, {} holds {}", dirs[i].string(), spaces.size(),
           dirs.front().string(), first_spaces.size());
    }
  }
  EmbedMergeSummary summary;
  summary.shards = dirs.size();
  for (const SpaceVectors& v : loaded) {
    v.store(ws.catalog());
    (v.space == "image" ? summary.image_vectors : summary.text_vectors) += v.keys.size();
    if (v.space == "image") summary.image_removed += v.removed.size();
  }
  return summary;
}

}  // namespace doppel
