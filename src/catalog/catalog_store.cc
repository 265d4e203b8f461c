#include "catalog/catalog_store.h"

#include <sqlite3.h>

#include <bit>
#include <cstring>

#include "util/error.h"

namespace doppel {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSchema = R"sql(
CREATE TABLE meta(
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL);
CREATE TABLE listings(
  key          INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT NOT NULL UNIQUE,
  title        TEXT NOT NULL,
  description  TEXT NOT NULL DEFAULT '',
  brand        TEXT NOT NULL DEFAULT '',
  category     TEXT NOT NULL DEFAULT '',
  model_number TEXT NOT NULL DEFAULT '',
  price        REAL,
  image        TEXT NOT NULL DEFAULT '');
-- Each listing's listing_codes (catalog/listing.h), for candidates that share a code.
CREATE TABLE listing_codes(
  code TEXT NOT NULL,
  key  INTEGER NOT NULL REFERENCES listings(key) ON DELETE CASCADE,
  PRIMARY KEY(code, key)) WITHOUT ROWID;
CREATE INDEX listing_codes_key ON listing_codes(key);
CREATE TABLE labels(
  key_a    INTEGER NOT NULL REFERENCES listings(key) ON DELETE CASCADE,
  key_b    INTEGER NOT NULL REFERENCES listings(key) ON DELETE CASCADE,
  is_match INTEGER NOT NULL CHECK(is_match IN (0, 1)),
  split    TEXT NOT NULL DEFAULT '',
  source   TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(key_a, key_b),
  CHECK(key_a < key_b)) WITHOUT ROWID;
CREATE INDEX labels_key_b ON labels(key_b);
CREATE TABLE vector_spaces(
  space TEXT PRIMARY KEY,
  dim   INTEGER NOT NULL CHECK(dim > 0));
CREATE TABLE vectors(
  space  TEXT NOT NULL REFERENCES vector_spaces(space) ON DELETE CASCADE,
  key    INTEGER NOT NULL REFERENCES listings(key) ON DELETE CASCADE,
  data   BLOB NOT NULL,
  source INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(space, key)) WITHOUT ROWID;
CREATE INDEX vectors_key ON vectors(key);
-- Every vector write and delete, in order: what an index built at sequence S must apply to
-- catch up. Filled by triggers so that no write path (put, listing removal, space drop) can
-- forget it.
CREATE TABLE vector_log(
  seq   INTEGER PRIMARY KEY AUTOINCREMENT,
  space TEXT NOT NULL,
  key   INTEGER NOT NULL,
  op    TEXT NOT NULL CHECK(op IN ('put', 'delete')));
CREATE INDEX vector_log_space ON vector_log(space, seq);
CREATE TRIGGER vectors_logged_insert AFTER INSERT ON vectors BEGIN
  INSERT INTO vector_log(space, key, op) VALUES(NEW.space, NEW.key, 'put');
END;
CREATE TRIGGER vectors_logged_update AFTER UPDATE OF data ON vectors
WHEN OLD.data IS NOT NEW.data BEGIN
  INSERT INTO vector_log(space, key, op) VALUES(NEW.space, NEW.key, 'put');
END;
CREATE TRIGGER vectors_logged_delete AFTER DELETE ON vectors BEGIN
  INSERT INTO vector_log(space, key, op) VALUES(OLD.space, OLD.key, 'delete');
END;
)sql";

// Version 1 to 2: vectors gain the digest of what they were encoded from, and a row whose source
// changes while its bytes stay is no change to log.
constexpr const char* kMigrateToVersion2 = R"sql(
ALTER TABLE vectors ADD COLUMN source INTEGER NOT NULL DEFAULT 0;
DROP TRIGGER vectors_logged_update;
CREATE TRIGGER vectors_logged_update AFTER UPDATE OF data ON vectors
WHEN OLD.data IS NOT NEW.data BEGIN
  INSERT INTO vector_log(space, key, op) VALUES(NEW.space, NEW.key, 'put');
END;
UPDATE meta SET value = '2' WHERE key = 'schema_version';
)sql";

// Version 2 to 3: listings gained their model-number key, indexed, so a process could find the
// listings that share one without holding them all. Version 4 drops the column again, so the
// step only keeps the chain of versions whole.
constexpr const char* kMigrateToVersion3 = R"sql(
ALTER TABLE listings ADD COLUMN model_key TEXT NOT NULL DEFAULT '';
CREATE INDEX listings_model_key ON listings(model_key) WHERE model_key != '';
UPDATE meta SET value = '3' WHERE key = 'schema_version';
)sql";

// Version 3 to 4: the model-number key becomes one of a listing's codes, in a table of their
// own, which also holds the codes of its title. migrate() fills it.
constexpr const char* kMigrateToVersion4 = R"sql(
CREATE TABLE listing_codes(
  code TEXT NOT NULL,
  key  INTEGER NOT NULL REFERENCES listings(key) ON DELETE CASCADE,
  PRIMARY KEY(code, key)) WITHOUT ROWID;
CREATE INDEX listing_codes_key ON listing_codes(key);
DROP INDEX listings_model_key;
ALTER TABLE listings DROP COLUMN model_key;
UPDATE meta SET value = '4' WHERE key = 'schema_version';
)sql";

constexpr const char* kListingColumns =
    "SELECT key, id, title, description, brand, category, model_number, price, image "
    "FROM listings ";

// A prepared statement; errors name the database path.
class Stmt {
 public:
  Stmt(sqlite3* db, const fs::path& path, const char* sql) : db_(db), path_(path) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      fail("{}: {} (in: {})", path.string(), sqlite3_errmsg(db), sql);
    }
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, std::string_view v) {
    // A default string_view has a null data(), which SQLite would bind as NULL, not ''.
    const char* p = v.data() ? v.data() : "";
    check(sqlite3_bind_text(stmt_, i, p, static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    check(sqlite3_bind_int64(stmt_, i, v));
    return *this;
  }
  Stmt& bind(int i, std::optional<double> v) {
    check(v ? sqlite3_bind_double(stmt_, i, *v) : sqlite3_bind_null(stmt_, i));
    return *this;
  }
  Stmt& bind_blob(int i, const void* data, size_t bytes) {
    check(sqlite3_bind_blob(stmt_, i, data, static_cast<int>(bytes), SQLITE_TRANSIENT));
    return *this;
  }
  // True when a row is ready, false when done.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail("{}: {}", path_.string(), sqlite3_errmsg(db_));
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::span<const unsigned char> blob(int col) const {
    const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(stmt_, col));
    return {p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))};
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail("{}: {}", path_.string(), sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  const fs::path& path_;
  sqlite3_stmt* stmt_ = nullptr;
};

void exec(sqlite3* db, const fs::path& path, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string what = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    fail("{}: {}", path.string(), what);
  }
}

// Rolls back unless commit() was called. Transactions nest (`depth` counts the open ones on the
// connection): only the outermost begins, commits or rolls back, so a nested one that fails
// leaves the rollback to the outer one its exception passes through (CatalogStore::in_transaction).
// Writes the listing_codes rows of listings (catalog/listing.h).
class CodeWriter {
 public:
  CodeWriter(sqlite3* db, const fs::path& path)
      : clear_(db, path, "DELETE FROM listing_codes WHERE key = ?"),
        insert_(db, path, "INSERT OR IGNORE INTO listing_codes(code, key) VALUES(?, ?)") {}

  // The codes of a stored listing (l.key set); `replace` drops the ones it had before.
  void write(const Listing& l, bool replace) {
    if (replace) {
      clear_.reset();
      clear_.bind(1, l.key).step();
    }
    for (const std::string& code : listing_codes(l)) {
      insert_.reset();
      insert_.bind(1, code).bind(2, l.key).step();
    }
  }

 private:
  Stmt clear_;
  Stmt insert_;
};

class Transaction {
 public:
  Transaction(sqlite3* db, const fs::path& path, int& depth)
      : db_(db), path_(path), depth_(depth), outermost_(depth == 0) {
    if (outermost_) exec(db, path, "BEGIN IMMEDIATE");
    ++depth_;
  }
  ~Transaction() {
    --depth_;
    if (outermost_ && !committed_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    if (outermost_) exec(db_, path_, "COMMIT");
    committed_ = true;
  }

 private:
  sqlite3* db_;
  const fs::path& path_;
  int& depth_;
  bool outermost_;
  bool committed_ = false;
};

Listing read_listing(const Stmt& s) {
  Listing l;
  l.key = s.int64(0);
  l.id = s.text(1);
  l.title = s.text(2);
  l.description = s.text(3);
  l.brand = s.text(4);
  l.category = s.text(5);
  l.model_number = s.text(6);
  if (!s.is_null(7)) l.price = s.real(7);
  l.image = s.text(8);
  return l;
}

}  // namespace

struct CatalogStore::Impl {
  sqlite3* db = nullptr;
  fs::path path;
  int transaction_depth = 0;

  ~Impl() {
    if (db) sqlite3_close_v2(db);
  }

  UpsertStats upsert(std::vector<Listing>& listings) {
    Stmt find(db, path, "SELECT key FROM listings WHERE id = ?");
    Stmt update(db, path,
                "UPDATE listings SET title = ?2, description = ?3, brand = ?4, category = ?5, "
                "model_number = ?6, price = ?7, image = ?8 WHERE key = ?1");
    Stmt insert(db, path,
                "INSERT INTO listings(id, title, description, brand, category, model_number, "
                "price, image) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    CodeWriter codes(db, path);
    UpsertStats stats;
    for (Listing& l : listings) {
      if (l.id.empty()) fail("{}: cannot store a listing with an empty id", path.string());
      if (l.title.empty()) fail("{}: listing '{}' has an empty title", path.string(), l.id);
      find.reset();
      find.bind(1, l.id);
      Stmt& write = find.step() ? update : insert;
      write.reset();
      if (&write == &update) {
        l.key = find.int64(0);
        update.bind(1, l.key);
        ++stats.updated;
      } else {
        insert.bind(1, l.id);
        ++stats.inserted;
      }
      write.bind(2, l.title).bind(3, l.description).bind(4, l.brand).bind(5, l.category);
      write.bind(6, l.model_number).bind(7, l.price).bind(8, l.image);
      write.step();
      if (&write == &insert) l.key = sqlite3_last_insert_rowid(db);
      codes.write(l, /*replace=*/&write == &update);
    }
    return stats;
  }

  size_t add_labels(const std::vector<LabeledPair>& labels, std::string_view source) {
    Stmt find(db, path, "SELECT key FROM listings WHERE id = ?");
    Stmt insert(db, path,
                "INSERT INTO labels(key_a, key_b, is_match, split, source) "
                "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(key_a, key_b) DO UPDATE SET "
                "is_match = excluded.is_match, split = excluded.split, source = excluded.source");
    auto key = [&](const std::string& id) {
      find.reset();
      find.bind(1, id);
      if (!find.step()) fail("{}: label names unknown listing id '{}'", path.string(), id);
      return find.int64(0);
    };
    size_t stored = 0;
    for (const LabeledPair& p : labels) {
      int64_t a = key(p.id_a);
      int64_t b = key(p.id_b);
      if (a == b) continue;
      if (a > b) std::swap(a, b);
      insert.reset();
      insert.bind(1, a).bind(2, b).bind(3, int64_t{p.match}).bind(4, p.split).bind(5, source);
      insert.step();
      ++stored;
    }
    return stored;
  }
};

CatalogStore::CatalogStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CatalogStore::CatalogStore(CatalogStore&&) noexcept = default;
CatalogStore& CatalogStore::operator=(CatalogStore&&) noexcept = default;
CatalogStore::~CatalogStore() = default;

CatalogStore CatalogStore::open(const fs::path& db_path, bool create) {
  std::error_code ec;
  if (fs::is_directory(db_path, ec))
    fail("{}: is a folder, not a catalog database", db_path.string());
  if (!create && !fs::exists(db_path, ec)) {
    fail("{}: no catalog database there (create the workspace first)", db_path.string());
  }
  auto impl = std::make_unique<Impl>();
  impl->path = db_path;
  int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(db_path.c_str(), &impl->db, flags, nullptr) != SQLITE_OK) {
    fail("{}: cannot open catalog database: {}", db_path.string(),
         impl->db ? sqlite3_errmsg(impl->db) : "out of memory");
  }
  sqlite3* db = impl->db;
  sqlite3_busy_timeout(db, 5000);
  // The first statement that reads the file tells whether it is a SQLite database at all.
  char* message = nullptr;
  if (sqlite3_exec(db, "PRAGMA journal_mode = WAL", nullptr, nullptr, &message) != SQLITE_OK) {
    std::string what = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    fail("{}: cannot open catalog database: {}", db_path.string(), what);
  }
  exec(db, db_path, "PRAGMA foreign_keys = ON");

  auto count = [&](const char* sql) {
    Stmt s(db, impl->path, sql);
    s.step();
    return s.int64(0);
  };
  if (count("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'") == 0) {
    if (!create || count("SELECT count(*) FROM sqlite_master") != 0) {
      fail("{}: not a doppel catalog (SQLite database without a meta table)", db_path.string());
    }
    Transaction t(db, impl->path, impl->transaction_depth);
    exec(db, db_path, kSchema);
    exec(db, db_path,
         fmt::format("INSERT INTO meta(key, value) VALUES('schema_version', '{}')", kSchemaVersion)
             .c_str());
    t.commit();
  }
  CatalogStore store(std::move(impl));
  store.migrate();
  return store;
}

void CatalogStore::migrate() {
  const fs::path& db_path = impl_->path;
  const auto version = meta("schema_version");
  if (!version) fail("{}: not a doppel catalog (no schema_version in meta)", db_path.string());
  if (*version == std::to_string(kSchemaVersion)) return;
  if (*version != "1" && *version != "2" && *version != "3") {
    fail("{}: catalog schema version '{}' is not supported (this doppel reads version {})",
         db_path.string(), *version, kSchemaVersion);
  }
  Transaction t(impl_->db, db_path, impl_->transaction_depth);
  // Read again under the write lock: another process may have migrated the file meanwhile.
  if (meta("schema_version") == "1") exec(impl_->db, db_path, kMigrateToVersion2);
  if (meta("schema_version") == "2") exec(impl_->db, db_path, kMigrateToVersion3);
  if (meta("schema_version") == "3") {
    exec(impl_->db, db_path, kMigrateToVersion4);
    Stmt listings(impl_->db, db_path, "SELECT key, title, model_number FROM listings");
    CodeWriter codes(impl_->db, db_path);
    while (listings.step()) {
      Listing l;
      l.key = listings.int64(0);
      l.title = listings.text(1);
      l.model_number = listings.text(2);
      codes.write(l, /*replace=*/false);
    }
  }
  t.commit();
}

const fs::path& CatalogStore::path() const { return impl_->path; }

CatalogStore::UpsertStats CatalogStore::upsert(std::vector<Listing>& listings) {
  return ingest(listings, {});
}

size_t CatalogStore::add_labels(const std::vector<LabeledPair>& labels, std::string_view source) {
  Transaction t(impl_->db, impl_->path, impl_->transaction_depth);
  size_t stored = impl_->add_labels(labels, source);
  t.commit();
  return stored;
}

CatalogStore::UpsertStats CatalogStore::ingest(std::vector<Listing>& listings,
                                               const std::vector<LabeledPair>& labels,
                                               std::string_view source) {
  Transaction t(impl_->db, impl_->path, impl_->transaction_depth);
  std::vector<int64_t> old_keys;
  old_keys.reserve(listings.size());
  for (const Listing& l : listings) old_keys.push_back(l.key);
  try {
    UpsertStats stats = impl_->upsert(listings);
    impl_->add_labels(labels, source);
    t.commit();
    return stats;
  } catch (...) {
    // Nothing was stored: give the listings their keys back.
    for (size_t i = 0; i < listings.size(); ++i) listings[i].key = old_keys[i];
    throw;
  }
}

void CatalogStore::in_transaction(const std::function<void()>& writes) {
  Transaction t(impl_->db, impl_->path, impl_->transaction_depth);
  writes();
  t.commit();
}

bool CatalogStore::remove(std::string_view id) {
  Transaction t(impl_->db, impl_->path, impl_->transaction_depth);
  Stmt s(impl_->db, impl_->path, "DELETE FROM listings WHERE id = ?");
  s.bind(1, id);
  s.step();
  bool removed = sqlite3_changes(impl_->db) > 0;
  t.commit();
  return removed;
}

CatalogStore::Snapshot CatalogStore::snapshot() const {
  exec(impl_->db, impl_->path, "BEGIN");
  return Snapshot(this);
}

CatalogStore::Snapshot::~Snapshot() {
  if (store_) sqlite3_exec(store_->impl_->db, "COMMIT", nullptr, nullptr, nullptr);
}

std::optional<Listing> CatalogStore::get(std::string_view id) const {
  Stmt s(impl_->db, impl_->path, (std::string(kListingColumns) + "WHERE id = ?").c_str());
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_listing(s);
}

std::optional<int64_t> CatalogStore::key_of(std::string_view id) const {
  Stmt s(impl_->db, impl_->path, "SELECT key FROM listings WHERE id = ?");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return s.int64(0);
}

std::optional<Listing> CatalogStore::get_by_key(int64_t key) const {
  Stmt s(impl_->db, impl_->path, (std::string(kListingColumns) + "WHERE key = ?").c_str());
  s.bind(1, key);
  if (!s.step()) return std::nullopt;
  return read_listing(s);
}

std::vector<Listing> CatalogStore::get_by_keys(std::span<const int64_t> keys) const {
  Stmt s(impl_->db, impl_->path, (std::string(kListingColumns) + "WHERE key = ?").c_str());
  std::vector<Listing> out;
  out.reserve(keys.size());
  for (int64_t key : keys) {
    s.reset();
    s.bind(1, key);
    if (s.step()) out.push_back(read_listing(s));
  }
  return out;
}

std::vector<Listing> CatalogStore::all_listings() const {
  Stmt s(impl_->db, impl_->path, (std::string(kListingColumns) + "ORDER BY key").c_str());
  std::vector<Listing> out;
  while (s.step()) out.push_back(read_listing(s));
  return out;
}

void CatalogStore::for_each_id(
    const std::function<void(int64_t key, std::string_view id)>& visit) const {
  Stmt s(impl_->db, impl_->path, "SELECT key, id FROM listings ORDER BY key");
  while (s.step()) visit(s.int64(0), s.text(1));
}

size_t CatalogStore::size() const {
  Stmt s(impl_->db, impl_->path, "SELECT count(*) FROM listings");
  s.step();
  return static_cast<size_t>(s.int64(0));
}

std::vector<int64_t> CatalogStore::keys_after(int64_t after, size_t n) const {
  Stmt s(impl_->db, impl_->path, "SELECT key FROM listings WHERE key > ? ORDER BY key LIMIT ?");
  s.bind(1, after).bind(2, static_cast<int64_t>(n));
  std::vector<int64_t> out;
  while (s.step()) out.push_back(s.int64(0));
  return out;
}

std::vector<Listing> CatalogStore::listings_after(int64_t after, size_t n) const {
  Stmt s(impl_->db, impl_->path,
         (std::string(kListingColumns) + "WHERE key > ? ORDER BY key LIMIT ?").c_str());
  s.bind(1, after).bind(2, static_cast<int64_t>(n));
  std::vector<Listing> out;
  while (s.step()) out.push_back(read_listing(s));
  return out;
}

std::vector<int64_t> CatalogStore::keys_with_code(std::string_view code, size_t n) const {
  std::vector<int64_t> out;
  if (code.empty()) return out;
  Stmt s(impl_->db, impl_->path,
         "SELECT key FROM listing_codes WHERE code = ? ORDER BY key LIMIT ?");
  s.bind(1, code).bind(2, static_cast<int64_t>(n));
  while (s.step()) out.push_back(s.int64(0));
  return out;
}

std::vector<CatalogStore::StoredLabel> CatalogStore::labels(std::string_view split) const {
  Stmt s(impl_->db, impl_->path,
         "SELECT key_a, key_b, is_match, split FROM labels WHERE ?1 = '' OR split = ?1 "
         "ORDER BY key_a, key_b");
  s.bind(1, split);
  std::vector<StoredLabel> out;
  while (s.step()) out.push_back(StoredLabel{s.int64(0), s.int64(1), s.int64(2) != 0, s.text(3)});
  return out;
}

std::vector<std::pair<int64_t, int64_t>> CatalogStore::unlabelled(
    std::span<const std::pair<int64_t, int64_t>> pairs) const {
  Stmt s(impl_->db, impl_->path, "SELECT 1 FROM labels WHERE key_a = ? AND key_b = ?");
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& [a, b] : pairs) {
    s.reset();
    s.bind(1, a).bind(2, b);
    if (!s.step()) out.emplace_back(a, b);
  }
  return out;
}

void CatalogStore::put_vectors(std::string_view space, std::span<const int64_t> keys,
                               const float* data, int dim, std::span<const uint64_t> sources) {
  const fs::path& path = impl_->path;
  if (space.empty()) fail("{}: vector space name is empty", path.string());
  DOPPEL_CHECK(sources.empty() || sources.size() == keys.size(), "{} sources for {} keys",
               sources.size(), keys.size());
  if (dim <= 0)
    fail("{}: vector space '{}': dim must be positive, got {}", path.string(), space, dim);
  if (keys.empty()) return;
  Transaction t(impl_->db, path, impl_->transaction_depth);
  const int existing_dim = vector_dim(space);
  if (existing_dim != 0 && existing_dim != dim) {
    fail("{}: vector space '{}' holds {}-d vectors, got {}-d (drop the space to change it)",
         path.string(), space, existing_dim, dim);
  }
  if (existing_dim == 0) {
    Stmt add(impl_->db, path, "INSERT INTO vector_spaces(space, dim) VALUES(?, ?)");
    add.bind(1, space).bind(2, int64_t{dim});
    add.step();
  }
  Stmt exists(impl_->db, path, "SELECT 1 FROM listings WHERE key = ?");
  // An unchanged vector is no change to log (the update trigger compares the bytes).
  Stmt put(impl_->db, path,
           "INSERT INTO vectors(space, key, data, source) VALUES(?, ?, ?, ?) "
           "ON CONFLICT(space, key) DO UPDATE SET data = excluded.data, source = excluded.source "
           "WHERE data != excluded.data OR source != excluded.source");
  const size_t row_bytes = sizeof(float) * static_cast<size_t>(dim);
  for (size_t i = 0; i < keys.size(); ++i) {
    exists.reset();
    exists.bind(1, keys[i]);
    if (!exists.step()) {
      fail("{}: vector space '{}': no stored listing has key {}", path.string(), space, keys[i]);
    }
    put.reset();
    put.bind(1, space).bind(2, keys[i]).bind_blob(3, data + i * dim, row_bytes);
    put.bind(4, sources.empty() ? int64_t{0} : std::bit_cast<int64_t>(sources[i]));
    put.step();
  }
  t.commit();
}

CatalogStore::VectorSet CatalogStore::vectors(std::string_view space) const {
  VectorSet out;
  out.dim = vector_dim(space);
  if (out.dim == 0) return out;
  Stmt s(impl_->db, impl_->path, "SELECT key, data FROM vectors WHERE space = ? ORDER BY key");
  s.bind(1, space);
  while (s.step()) append_vector_row(s.blob(1), s.int64(0), space, out);
  return out;
}

CatalogStore::VectorSet CatalogStore::vectors_after(std::string_view space, int64_t after,
                                                    size_t n) const {
  VectorSet out;
  out.dim = vector_dim(space);
  if (out.dim == 0) return out;
  Stmt s(impl_->db, impl_->path,
         "SELECT key, data FROM vectors WHERE space = ? AND key > ? ORDER BY key LIMIT ?");
  s.bind(1, space).bind(2, after).bind(3, static_cast<int64_t>(n));
  while (s.step()) append_vector_row(s.blob(1), s.int64(0), space, out);
  return out;
}

std::unordered_map<int64_t, uint64_t> CatalogStore::vector_sources(std::string_view space) const {
  std::unordered_map<int64_t, uint64_t> out;
  Stmt s(impl_->db, impl_->path, "SELECT key, source FROM vectors WHERE space = ?");
  s.bind(1, space);
  while (s.step()) out.emplace(s.int64(0), std::bit_cast<uint64_t>(s.int64(1)));
  return out;
}

std::unordered_map<int64_t, uint64_t> CatalogStore::vector_sources(std::string_view space,
                                                                   int64_t first,
                                                                   int64_t last) const {
  std::unordered_map<int64_t, uint64_t> out;
  Stmt s(impl_->db, impl_->path,
         "SELECT key, source FROM vectors WHERE space = ? AND key BETWEEN ? AND ?");
  s.bind(1, space).bind(2, first).bind(3, last);
  while (s.step()) out.emplace(s.int64(0), std::bit_cast<uint64_t>(s.int64(1)));
  return out;
}

void CatalogStore::append_vector_row(std::span<const unsigned char> blob, int64_t key,
                                     std::string_view space, VectorSet& out) const {
  const size_t row_bytes = sizeof(float) * static_cast<size_t>(out.dim);
  if (blob.size() != row_bytes) {
    fail("{}: vector space '{}': key {} has {} bytes, expected {} ({}-d float32)",
         impl_->path.string(), space, key, blob.size(), row_bytes, out.dim);
  }
  out.keys.push_back(key);
  size_t at = out.data.size();
  out.data.resize(at + out.dim);
  std::memcpy(out.data.data() + at, blob.data(), row_bytes);
}

int CatalogStore::vector_dim(std::string_view space) const {
  Stmt find(impl_->db, impl_->path, "SELECT dim FROM vector_spaces WHERE space = ?");
  find.bind(1, space);
  return find.step() ? static_cast<int>(find.int64(0)) : 0;
}

size_t CatalogStore::vector_count(std::string_view space) const {
  Stmt s(impl_->db, impl_->path, "SELECT count(*) FROM vectors WHERE space = ?");
  s.bind(1, space);
  s.step();
  return static_cast<size_t>(s.int64(0));
}

std::vector<int64_t> CatalogStore::vector_keys(std::string_view space) const {
  Stmt s(impl_->db, impl_->path, "SELECT key FROM vectors WHERE space = ? ORDER BY key");
  s.bind(1, space);
  std::vector<int64_t> out;
  while (s.step()) out.push_back(s.int64(0));
  return out;
}

int64_t CatalogStore::vector_log_head(std::string_view space) const {
  Stmt s(impl_->db, impl_->path, "SELECT coalesce(max(seq), 0) FROM vector_log WHERE space = ?");
  s.bind(1, space);
  s.step();
  return s.int64(0);
}

std::vector<CatalogStore::VectorChange> CatalogStore::vector_changes_since(std::string_view space,
                                                                           int64_t seq) const {
  // The last operation per key wins: a put after a delete is a put, and the reverse a delete.
  Stmt s(impl_->db, impl_->path,
         "SELECT l.key, l.op FROM vector_log l JOIN ("
         "  SELECT key, max(seq) AS last FROM vector_log WHERE space = ?1 AND seq > ?2 "
         "  GROUP BY key) m ON l.seq = m.last ORDER BY l.key");
  s.bind(1, space).bind(2, seq);
  std::vector<VectorChange> out;
  while (s.step()) out.push_back(VectorChange{s.int64(0), s.text(1) == "delete"});
  return out;
}

CatalogStore::VectorSet CatalogStore::vectors(std::string_view space,
                                              std::span<const int64_t> keys) const {
  VectorSet out;
  out.dim = vector_dim(space);
  if (out.dim == 0) return out;
  Stmt s(impl_->db, impl_->path, "SELECT data FROM vectors WHERE space = ? AND key = ?");
  for (int64_t key : keys) {
    s.reset();
    s.bind(1, space).bind(2, key);
    if (!s.step()) continue;
    append_vector_row(s.blob(0), key, space, out);
  }
  return out;
}

size_t CatalogStore::remove_vectors(std::string_view space, std::span<const int64_t> keys) {
  Transaction t(impl_->db, impl_->path, impl_->transaction_depth);
  Stmt s(impl_->db, impl_->path, "DELETE FROM vectors WHERE space = ? AND key = ?");
  size_t removed = 0;
  for (int64_t key : keys) {
    s.reset();
    s.bind(1, space).bind(2, key);
    s.step();
    removed += static_cast<size_t>(sqlite3_changes(impl_->db));
  }
  t.commit();
  return removed;
}

void CatalogStore::drop_vectors(std::string_view space) {
  Transaction t(impl_->db, impl_->path, impl_->transaction_depth);
  Stmt s(impl_->db, impl_->path, "DELETE FROM vector_spaces WHERE space = ?");
  s.bind(1, space);
  s.step();
  t.commit();
}

void CatalogStore::set_meta(std::string_view key, std::string_view value) {
  Stmt s(impl_->db, impl_->path, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)");
  s.bind(1, key).bind(2, value);
  s.step();
}

std::optional<std::string> CatalogStore::meta(std::string_view key) const {
  Stmt s(impl_->db, impl_->path, "SELECT value FROM meta WHERE key = ?");
  s.bind(1, key);
  if (!s.step()) return std::nullopt;
  return s.text(0);
}

}  // namespace doppel
