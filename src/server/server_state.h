// ServerState — what `doppel serve` keeps in memory: the workspace's models (text encoder, image
// encoder when the workspace has one, decider) and the vector indexes, kept in step with
// catalog.db: the text index, and with an image encoder an image index (the saved
// ws/index/image.index, else a Flat one built in memory at start). Listings and their vectors
// stay in catalog.db: each request reads the few it needs (its candidates) through a pool of read
// connections (candidates by code too, through catalog.db's index of listing codes),
// so the server's memory beyond its indexes does not grow with the catalog. With an image encoder,
// an upserted listing's photo is embedded and stored beside its text vector (and enters the image
// index), and a match request's photo is embedded: its candidates are the nearest by text ∪ the
// nearest by image ∪ those sharing a code with it, and its vector feeds the decider's image
// features.
//
// Concurrency: reads (match, listing, cluster, review queue) run in parallel, each on a read
// connection of its own, and share a readers-writer lock over the indexes (a match holds it only
// for its searches); a write takes the lock exclusively only to apply its change to the indexes.
// Writers are serialised by a second mutex that also guards the one writing catalog.db connection,
// so a slow SQLite commit never blocks readers.
//
// Durability: a write returns only after catalog.db has committed it (WAL): the listing and its
// vectors in one transaction. The in-memory indexes are then caught up from the catalog's vector
// log, the one path by which every index change arrives (so vector changes another process made,
// e.g. `doppel embed`, are applied by the next write too). At start a saved index is loaded and
// the log since its state applied (an unsaved image index is rebuilt from catalog.db), so a
// kill -9 at any moment loses no acknowledged write. save_index() writes the saved indexes with
// the log positions they reflect (graceful shutdown).
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog_readers.h"
#include "catalog/encoder.h"
#include "image/neural_image_encoder.h"
#include "pipeline/match_models.h"
#include "pipeline/vector_sources.h"
#include "pipeline/workspace.h"
#include "server/deadline.h"
#include "server/live_index.h"
#include "server/online_match.h"

namespace doppel {

struct ServerStats {
  size_t listings = 0;
  size_t indexed = 0;
  std::string index_spec;
  size_t image_indexed = 0;      // 0 without an image index
  std::string image_index_spec;  // empty without one
  std::string text_encoder;
  std::string image_encoder;  // empty without one
  float threshold = 0;
  int decider_models = 0;
  int64_t vector_log_seq = 0;
};

class ServerState {
 public:
  // Loads the workspace (slow at scale). Error when a model or the index is missing, or the
  // encoder that would embed new listings is not the one that embedded the stored vectors.
  // `images` says how the image encoder reads an upserted listing's photo (the server's image
  // root, cache and limits). Error as well when the decider uses image features but the
  // workspace has no image encoder, or the stored image vectors are another encoder's.
  explicit ServerState(const std::filesystem::path& workspace,
                       const ImageFetcherOptions& images = {});

  const Workspace& workspace() const { return ws_; }

  // Candidates for a listing that need not be in the catalog: the k nearest by text ∪ the
  // image_k nearest by image ∪ the listings sharing a code with it, most confident first.
  // `image` (RGB, may be null) is the query's decoded photo: with an image encoder it is
  // embedded, searched in the image index and its vector feeds the decider's image features.
  // `deadline` (may be null) is checked before each stage (embedding, taking the lock, searching
  // and scoring) and once at the end: it throws DeadlineExceeded rather than answer late.
  std::vector<MatchCandidate> match(const Listing& query, int k, int image_k,
                                    const cv::Mat* image = nullptr,
                                    const Deadline* deadline = nullptr) const;
  bool uses_images() const { return image_encoder_ != nullptr; }

  // Stores (new id: created = true) or replaces the listing, its vector and index entry. Returns
  // the stored listing with its key. Durable when it returns.
  Listing upsert(Listing listing, bool* created = nullptr);
  // Removes the listing, its vector, labels and index entry; false when the id is unknown.
  bool remove(std::string_view id);
  std::optional<Listing> listing(std::string_view id) const;

  // The listings grouped with `id` (itself first): a bounded search outward along accepted
  // candidate pairs, then the same anti-chaining clustering as `doppel dedup`. nullopt for an
  // unknown id.
  std::optional<std::vector<MatchCandidate>> cluster(std::string_view id) const;

  // A human verdict, stored as a "train" label with source "review" (what `doppel train
  // decider` learns from). Error when an id is unknown or both ids are the same.
  void add_label(std::string_view id_a, std::string_view id_b, bool match);

  // Up to n unlabelled candidate pairs whose confidence is closest to the threshold, from the
  // neighbours of `sample` listings (a window of keys that moves on with each call).
  // Unlabelled: catalog.db holds no label for the pair, whichever process stored it.
  std::vector<ReviewPair> review_queue(size_t n, size_t sample) const;

  // Counts included: at a million listings counting costs a few milliseconds, so a request
  // that needs only the threshold asks threshold().
  ServerStats stats() const;
  float threshold() const { return models_.decider->threshold(); }
  // Saves the text index and a saved image index, each with the vector-log position it reflects.
  void save_index();

 private:
  // Reads what changed in catalog.db since the indexes' positions (writer lock held) and applies
  // it under the exclusive lock.
  void catch_up();
  CandidateIndexes indexes() const;  // shared lock held
  // The stored listings of these keys with their vectors, read on a read connection.
  PairFeaturizer stored(std::span<const int64_t> keys) const;
  ListingFetch fetch() const;  // stored() as a ListingFetch
  std::vector<float> encode(const Listing& listing) const;
  // The listing's image vector; empty without an image encoder, photo, or readable photo.
  std::vector<float> encode_image(const Listing& listing) const;
  std::optional<int64_t> key_of(std::string_view id) const;

  Workspace ws_;                     // its catalog is the writer connection
  mutable std::mutex writer_mutex_;  // serialises writes and guards ws_.catalog()
  mutable std::shared_mutex state_mutex_;
  CatalogReaders readers_;
  MatchModels models_;                     // the classical encoder, the decider and its layout
  std::unique_ptr<Encoder> text_encoder_;  // the encoder of the stored "text" vectors
  std::unique_ptr<ImageEncoder> image_encoder_;  // of the "image" vectors; may be null
  // What the vectors an upsert stores are made from, so `doppel embed` does not redo them.
  VectorSources text_sources_;
  std::optional<VectorSources> image_sources_;  // with an image encoder
  LiveIndex text_index_;
  std::optional<LiveIndex> image_index_;           // with an image encoder
  mutable std::atomic<int64_t> review_cursor_{0};  // the last key of the last window
};

}  // namespace doppel
