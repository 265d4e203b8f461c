// Embed shards (pipeline/shards.h): `doppel embed --shard i/N --out DIR` encodes the listings of
// one shard into DIR (one SpaceVectors file per space), and `doppel merge` stores a complete set
// of such folders into catalog.db: the same rows an unsharded `doppel embed` stores.
#pragma once

#include <filesystem>
#include <span>

#include "pipeline/image_jobs.h"
#include "pipeline/shards.h"
#include "pipeline/text_jobs.h"
#include "pipeline/workspace.h"

namespace doppel {

struct EmbedShardSummary {
  size_t listings = 0;      // in the shard
  size_t text_vectors = 0;  // encoded; 0 when the text space was not asked for
  ImageEmbedReport images;  // all zero when the image space was not asked for
};

// Encodes the shard's listings (as `scope` says): text (with `choice`) when `text`, images when
// `image`; writes out_dir/<space>.vectors a page at a time (space_vectors.h), then
// out_dir/shard.json. It holds a page of listings and vectors, never the shard's.
EmbedShardSummary embed_shard(Workspace& ws, Shard shard, const std::filesystem::path& out_dir,
                              bool text, bool image,
                              TextEncoderChoice choice = TextEncoderChoice::kAuto,
                              EmbedScope scope = EmbedScope::kStale);

struct EmbedMergeSummary {
  size_t shards = 0;
  size_t text_vectors = 0, image_vectors = 0, image_removed = 0;
};

// Checks the folders (a complete set of embed shards of this catalog; every shard with the same
// spaces, encoders and dims) and the structure of every vector file before storing anything,
// then stores them a page at a time in one transaction, so a damaged shard leaves catalog.db as
// it was and the merge holds one page of vectors, not the catalog's.
EmbedMergeSummary merge_embed_shards(Workspace& ws, std::span<const std::filesystem::path> dirs);

}  // namespace doppel
