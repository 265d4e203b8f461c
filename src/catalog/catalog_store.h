// CatalogStore — the workspace's catalog.db (SQLite): listings with their dense int64 keys,
// labelled pairs, per-space embedding vectors and key/value metadata. The schema is described
// in docs/catalog_format.md.
//
// A CatalogStore owns its database connection (closed by the destructor); it is movable, not
// copyable, and not safe to use from two threads at once (open one store per thread; SQLite's
// WAL mode and busy timeout let several connections and processes share the file). Every
// mutating call is one transaction: on doppel::Error nothing of that call is written.
//
// Keys: a listing's key is assigned once, when its id is first stored, and never changes or gets
// reused (AUTOINCREMENT), so a key held by a vector index keeps meaning the same listing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "catalog/listing.h"

namespace doppel {

class CatalogStore {
 public:
  // The schema version this build reads and writes (meta 'schema_version'). open() migrates a
  // catalog of an earlier version in place (docs/catalog_format.md).
  static constexpr int kSchemaVersion = 4;

  // Opens the database at db_path (creating file and schema when create == true; otherwise a
  // missing file is an Error). WAL journal, foreign keys on, 5 s busy timeout. Throws
  // doppel::Error naming the path when it cannot be opened, is not a SQLite database, is not a
  // doppel catalog, or has a schema version this build does not know.
  static CatalogStore open(const std::filesystem::path& db_path, bool create = false);

  CatalogStore(CatalogStore&&) noexcept;
  CatalogStore& operator=(CatalogStore&&) noexcept;
  CatalogStore(const CatalogStore&) = delete;
  CatalogStore& operator=(const CatalogStore&) = delete;
  ~CatalogStore();

  const std::filesystem::path& path() const;

  struct UpsertStats {
    size_t inserted = 0;
    size_t updated = 0;
  };
  // Upserts in one transaction: a new id gets a new key, an existing id keeps its key and has its
  // fields replaced. Sets listing.key on each element. An empty id or title is an Error.
  UpsertStats upsert(std::vector<Listing>& listings);

  // Stores labelled pairs in one transaction, normalised to key_a < key_b; a later verdict on the
  // same pair replaces the earlier one (split and source too). A pair of a listing with itself
  // (possible when two benchmark records have identical text) is skipped. Unknown ids: Error
  // naming the id, nothing written. Returns the number of pairs stored.
  size_t add_labels(const std::vector<LabeledPair>& labels, std::string_view source = "import");

  // upsert() and add_labels() in one transaction: on Error neither listings nor labels are
  // written (what ingest --strict relies on). Labels may name listings of this same call.
  UpsertStats ingest(std::vector<Listing>& listings, const std::vector<LabeledPair>& labels,
                     std::string_view source = "import");

  // Runs `writes` (calls of this store's mutating methods) as one transaction: all of them are
  // committed, or, when an exception leaves `writes`, none (e.g. a listing and its vector, which
  // must never be stored one without the other). Nested calls join the outer transaction.
  void in_transaction(const std::function<void()>& writes);

  // A read transaction, from snapshot() until the object is destroyed: the reads in between all
  // see the catalog as one commit left it, and share one lock of the file (not one per read).
  // Not for a store with a write transaction open.
  class Snapshot {
   public:
    Snapshot(Snapshot&& other) noexcept : store_(std::exchange(other.store_, nullptr)) {}
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;
    Snapshot& operator=(Snapshot&&) = delete;
    ~Snapshot();

   private:
    friend class CatalogStore;
    explicit Snapshot(const CatalogStore* store) : store_(store) {}
    const CatalogStore* store_;
  };
  [[nodiscard]] Snapshot snapshot() const;

  // Removes the listing with this id and its labels and vectors; false when there was none.
  bool remove(std::string_view id);

  std::optional<Listing> get(std::string_view id) const;
  std::optional<int64_t> key_of(std::string_view id) const;  // nullopt for an unknown id
  std::optional<Listing> get_by_key(int64_t key) const;
  // The stored listings of these keys, in the given order; keys without one are left out.
  std::vector<Listing> get_by_keys(std::span<const int64_t> keys) const;
  std::vector<Listing> all_listings() const;  // ordered by key
  // Calls visit(key, id) for every listing in key order, without holding them all.
  void for_each_id(const std::function<void(int64_t key, std::string_view id)>& visit) const;
  size_t size() const;
  // Up to n listing keys greater than `after`, ascending.
  std::vector<int64_t> keys_after(int64_t after, size_t n) const;
  // Up to n listings with keys greater than `after`, in key order: a page of a scan that never
  // holds the whole catalog.
  std::vector<Listing> listings_after(int64_t after, size_t n) const;
  // Up to n keys, ascending, of the listings that have `code` among their listing_codes
  // (listing.h); none for an empty one.
  std::vector<int64_t> keys_with_code(std::string_view code, size_t n) const;

  struct StoredLabel {
    int64_t key_a = 0;  // key_a < key_b
    int64_t key_b = 0;
    bool match = false;
    std::string split;
  };
  // Labels ordered by (key_a, key_b); an empty split selects all.
  std::vector<StoredLabel> labels(std::string_view split = {}) const;
  // The pairs (smaller key first) that have no stored label, in the given order.
  std::vector<std::pair<int64_t, int64_t>> unlabelled(
      std::span<const std::pair<int64_t, int64_t>> pairs) const;

  // Vectors per named space ("text", "image"): one float32 row of `dim` values per listing key,
  // data holding keys.size() * dim floats, row-major. Replaces existing rows of those keys. One
  // transaction. Error when dim differs from the dim the space already holds, or a key is not a
  // stored listing. `sources` (empty, or one per key) are digests of what each row was encoded
  // from (pipeline/vector_sources.h); a row stored without one gets 0, "unknown".
  void put_vectors(std::string_view space, std::span<const int64_t> keys, const float* data,
                   int dim, std::span<const uint64_t> sources = {});
  struct VectorSet {
    int dim = 0;  // 0 when the space holds nothing
    std::vector<int64_t> keys;
    std::vector<float> data;  // keys.size() * dim, rows in key order
  };
  VectorSet vectors(std::string_view space) const;
  int vector_dim(std::string_view space) const;       // 0 when the space holds nothing
  size_t vector_count(std::string_view space) const;  // rows stored in the space
  std::vector<int64_t> vector_keys(std::string_view space) const;  // keys of its rows, ascending
  // Up to n rows of a space with keys greater than `after`, ascending: a page of a scan that
  // never holds the whole space.
  VectorSet vectors_after(std::string_view space, int64_t after, size_t n) const;
  // The stored rows of just these keys (keys without a row are left out), in the given order.
  VectorSet vectors(std::string_view space, std::span<const int64_t> keys) const;
  // The source digest of every stored row of a space, by key (empty when the space holds none).
  std::unordered_map<int64_t, uint64_t> vector_sources(std::string_view space) const;
  // The same for the rows with first <= key <= last (a page of a scan).
  std::unordered_map<int64_t, uint64_t> vector_sources(std::string_view space, int64_t first,
                                                       int64_t last) const;
  // Removes the rows of these keys from a space (keys without a row are ignored); one
  // transaction. Returns the number of rows removed.
  size_t remove_vectors(std::string_view space, std::span<const int64_t> keys);
  // Removes a whole space (all its rows and its dim), e.g. before re-embedding at another dim.
  void drop_vectors(std::string_view space);

  // The vector log: every write and delete of a row of a space gets the next sequence number
  // (kept by triggers, so listing removal and space drops are logged too). An index records the
  // head it was built at; what changed since is what it must apply to catch up. Writing a row
  // with the bytes it already holds logs nothing, so re-embedding a catalog logs only what moved.
  int64_t vector_log_head(std::string_view space) const;  // 0 when nothing was ever written
  struct VectorChange {
    int64_t key;
    bool deleted;  // false: the row was written (added or replaced) and is current
  };
  // One entry per key changed after `seq`, by its last operation, in key order.
  std::vector<VectorChange> vector_changes_since(std::string_view space, int64_t seq) const;

  void set_meta(std::string_view key, std::string_view value);
  std::optional<std::string> meta(std::string_view key) const;

 private:
  struct Impl;
  explicit CatalogStore(std::unique_ptr<Impl> impl);
  // Brings a catalog of an earlier schema version up to kSchemaVersion; Error on an unknown one.
  void migrate();
  // Appends one stored row to `out` (whose dim is set), checking the blob's size.
  void append_vector_row(std::span<const unsigned char> blob, int64_t key, std::string_view space,
                         VectorSet& out) const;
  std::unique_ptr<Impl> impl_;
};

}  // namespace doppel
