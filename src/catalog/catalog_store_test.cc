#include "catalog/catalog_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <thread>

#include "catalog/catalog_readers.h"
#include "catalog/test_dir.h"
#include "util/error.h"

namespace doppel {
namespace {

using ::testing::HasSubstr;
using testing::TestDir;

Listing make(std::string id, std::string title, std::optional<double> price = std::nullopt) {
  Listing l;
  l.id = std::move(id);
  l.title = std::move(title);
  l.price = price;
  return l;
}

TEST(CatalogStore, CreatesReopensAndPersists) {
  TestDir dir;
  auto db = dir.path() / "catalog.db";
  EXPECT_THROW(CatalogStore::open(db), Error);  // not created yet
  {
    CatalogStore store = CatalogStore::open(db, /*create=*/true);
    std::vector<Listing> items = {make("a", "Lamp", 5.0), make("b", "Desk")};
    items[1].brand = "Acme";
    items[1].image = "img/b.jpg";
    store.upsert(items);
    store.set_meta("model", "tfidf");
  }
  CatalogStore store = CatalogStore::open(db);
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.meta("schema_version"), "4");
  EXPECT_EQ(store.meta("model"), "tfidf");
  EXPECT_FALSE(store.meta("absent").has_value());
  auto b = store.get("b");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->brand, "Acme");
  EXPECT_EQ(b->image, "img/b.jpg");
  EXPECT_FALSE(b->price.has_value());
  EXPECT_EQ(store.get("a")->price, 5.0);
  EXPECT_FALSE(store.get("zzz").has_value());
}

TEST(CatalogStore, UpsertKeepsKeyAndReplacesFields) {
  TestDir dir;
  CatalogStore store = CatalogStore::open(dir.path() / "catalog.db", true);
  std::vector<Listing> first = {make("a", "Lamp", 5.0), make("b", "Desk")};
  auto s1 = store.upsert(first);
  EXPECT_EQ(s1.inserted, 2u);
  EXPECT_EQ(s1.updated, 0u);
  EXPECT_GT(first[0].key, 0);
  EXPECT_NE(first[0].key, first[1].key);

  std::vector<Listing> second = {make("a", "Brass lamp"), make("c", "Chair")};
  auto s2 = store.upsert(second);
  EXPECT_EQ(s2.inserted, 1u);
  EXPECT_EQ(s2.updated, 1u);
  EXPECT_EQ(second[0].key, first[0].key);
  auto a = store.get_by_key(first[0].key);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->title, "Brass lamp");
  EXPECT_FALSE(a->price.has_value());

  auto all = store.all_listings();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, "a");
  EXPECT_EQ(all[2].id, "c");
  EXPECT_LT(all[1].key, all[2].key);

  std::vector<Listing> bad = {make("d", "ok"), make("e", "")};
  EXPECT_THROW(store.upsert(bad), Error);
  EXPECT_EQ(store.size(), 3u);
  EXPECT_EQ(bad[0].key, -1);  // nothing stored, so no key either
}

TEST(CatalogStore, LabelsNormaliseReplaceAndRejectUnknownIds) {
  TestDir dir;
  CatalogStore store = CatalogStore::open(dir.path() / "catalog.db", true);
  std::vector<Listing> items = {make("a", "A"), make("b", "B"), make("c", "C")};
  store.upsert(items);
  EXPECT_EQ(store.add_labels(
                {{"b", "a", true, "train"}, {"a", "c", false, "test"}, {"a", "a", true, "train"}}),
            2u);
  store.add_labels({{"a", "b", false, "valid"}}, "review");
  auto all = store.labels();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].key_a, items[0].key);
  EXPECT_EQ(all[0].key_b, items[1].key);
  EXPECT_FALSE(all[0].match);  // the later verdict won
  EXPECT_EQ(all[0].split, "valid");
  EXPECT_EQ(store.labels("test").size(), 1u);
  EXPECT_TRUE(store.labels("train").empty());

  try {
    store.add_labels({{"a", "c", true, "test"}, {"a", "nope", true, "test"}});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("'nope'"));
  }
  auto after = store.labels("test");
  ASSERT_EQ(after.size(), 1u);
  EXPECT_FALSE(after[0].match);  // the first pair of the failed call was not written
}

TEST(CatalogStore, IngestIsAtomic) {
  TestDir dir;
  CatalogStore store = CatalogStore::open(dir.path() / "catalog.db", true);
  std::vector<Listing> items = {make("a", "A"), make("b", "B")};
  EXPECT_THROW(store.ingest(items, {{"a", "b", true, "train"}, {"a", "ghost", false, "train"}}),
               Error);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_TRUE(store.labels().empty());
  EXPECT_EQ(items[0].key, -1);

  auto stats = store.ingest(items, {{"a", "b", true, "train"}});
  EXPECT_EQ(stats.inserted, 2u);
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.labels().size(), 1u);
}

TEST(CatalogStore, InTransactionCommitsAllOrNothing) {
  TestDir dir;
  CatalogStore store = CatalogStore::open(dir.path() / "catalog.db", true);
  std::vector<Listing> items = {make("a", "A")};
  const float vector[2] = {1, 0};
  store.in_transaction([&] { store.upsert(items); });
  const int64_t a = items[0].key;
  store.put_vectors("text", std::span(&a, 1), vector, 2);
  std::vector<Listing> more = {make("b", "B")};
  // The vector write fails (1-d into a 2-d space): the listing of the same call is not kept.
  EXPECT_THROW(store.in_transaction([&] {
    store.upsert(more);
    store.put_vectors("text", std::span(&more[0].key, 1), vector, 1);
  }),
               Error);
  EXPECT_FALSE(store.get("b").has_value());
  store.in_transaction([&] {
    store.upsert(more);
    store.put_vectors("text", std::span(&more[0].key, 1), vector, 2);
  });
  EXPECT_TRUE(store.get("b").has_value());
  EXPECT_EQ(store.vectors("text").keys.size(), 2u);
}

TEST(CatalogStore, VectorsRoundTripAndCheckDim) {
  TestDir dir;
  CatalogStore store = CatalogStore::open(dir.path() / "catalog.db", true);
  std::vector<Listing> items = {make("a", "A"), make("b", "B"), make("c", "C")};
  store.upsert(items);
  std::vector<int64_t> keys = {items[2].key, items[0].key};
  std::vector<float> data = {3.f, 3.5f, 1.f, 1.5f};
  store.put_vectors("text", keys, data.data(), 2);
  auto v = store.vectors("text");
  EXPECT_EQ(v.dim, 2);
  EXPECT_EQ(v.keys, (std::vector<int64_t>{items[0].key, items[2].key}));  // key order
  EXPECT_EQ(v.data, (std::vector<float>{1.f, 1.5f, 3.f, 3.5f}));
  EXPECT_EQ(store.vectors("image").dim, 0);

  // Replacing a row, then a dim mismatch and an unknown key (neither writes anything).
  std::vector<int64_t> one = {items[0].key};
  std::vector<float> row = {9.f, 9.f};
  store.put_vectors("text", one, row.data(), 2);
  EXPECT_EQ(store.vectors("text").data[0], 9.f);
  std::vector<float> wide = {1.f, 2.f, 3.f};
  try {
    store.put_vectors("text", one, wide.data(), 3);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("2-d"));
  }
  std::vector<int64_t> ghost = {items[1].key, 999};
  std::vector<float> rows = {7.f, 7.f, 8.f, 8.f};
  EXPECT_THROW(store.put_vectors("text", ghost, rows.data(), 2), Error);
  EXPECT_EQ(store.vectors("text").keys.size(), 2u);

  // Removing rows by key: only existing rows count, and the removal is logged for the index.
  const int64_t head = store.vector_log_head("text");
  std::vector<int64_t> gone = {items[0].key, items[1].key};
  EXPECT_EQ(store.remove_vectors("text", gone), 1u);
  EXPECT_EQ(store.vectors("text").keys, (std::vector<int64_t>{items[2].key}));
  auto changes = store.vector_changes_since("text", head);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].key, items[0].key);
  EXPECT_TRUE(changes[0].deleted);

  store.drop_vectors("text");
  store.put_vectors("text", one, wide.data(), 3);
  EXPECT_EQ(store.vectors("text").dim, 3);
}

TEST(CatalogStore, RemoveCascadesAndKeysAreNeverReused) {
  TestDir dir;
  CatalogStore store = CatalogStore::open(dir.path() / "catalog.db", true);
  std::vector<Listing> items = {make("a", "A"), make("b", "B")};
  store.upsert(items);
  store.add_labels({{"a", "b", true, "train"}});
  std::vector<int64_t> keys = {items[1].key};
  float v[2] = {1.f, 2.f};
  store.put_vectors("text", keys, v, 2);

  EXPECT_TRUE(store.remove("b"));
  EXPECT_FALSE(store.remove("b"));
  EXPECT_EQ(store.size(), 1u);
  EXPECT_TRUE(store.labels().empty());
  EXPECT_TRUE(store.vectors("text").keys.empty());

  std::vector<Listing> again = {make("b", "B")};
  store.upsert(again);
  EXPECT_GT(again[0].key, items[1].key);
}

TEST(CatalogStore, MoveKeepsTheConnection) {
  TestDir dir;
  CatalogStore a = CatalogStore::open(dir.path() / "catalog.db", true);
  CatalogStore b = std::move(a);
  std::vector<Listing> items = {make("a", "A")};
  b.upsert(items);
  EXPECT_EQ(b.size(), 1u);
}

TEST(CatalogStore, RejectsFilesThatAreNotCatalogs) {
  TestDir dir;
  auto text = dir.write("notes.db", "this is not a database, just some text that is long enough\n");
  for (bool create : {false, true}) {
    try {
      CatalogStore::open(text, create);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr(text.string()));
      EXPECT_THAT(e.what(), HasSubstr("not a database"));
    }
  }

  // A SQLite database of something else.
  auto other = dir.path() / "other.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_THROW(CatalogStore::open(other, true), Error);

  // A catalog from a future doppel.
  auto future = dir.path() / "future.db";
  CatalogStore::open(future, true).set_meta("schema_version", "99");
  try {
    CatalogStore::open(future);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("version '99'"));
  }
}

}  // namespace
}  // namespace doppel

namespace doppel {
namespace {

TEST(CatalogStoreVectorLog, RecordsPutsReplacementsAndDeletesInOrder) {
  TestDir dir;
  auto store = CatalogStore::open(dir.path() / "c.db", true);
  std::vector<Listing> listings(3);
  for (int i = 0; i < 3; ++i) {
    listings[i].id = "L" + std::to_string(i);
    listings[i].title = "title " + std::to_string(i);
  }
  store.upsert(listings);
  EXPECT_EQ(store.vector_log_head("text"), 0);
  std::vector<int64_t> keys = {listings[0].key, listings[1].key, listings[2].key};
  std::vector<float> data = {1, 0, 0, 1, 1, 1};
  store.put_vectors("text", keys, data.data(), 2);
  const int64_t built_at = store.vector_log_head("text");
  EXPECT_GT(built_at, 0);
  EXPECT_TRUE(store.vector_changes_since("text", built_at).empty());
  store.put_vectors("text", keys, data.data(), 2);  // the same bytes again: nothing to log
  EXPECT_EQ(store.vector_log_head("text"), built_at);

  std::vector<float> replaced = {0.5f, 0.5f};
  store.put_vectors("text", std::span<const int64_t>(keys).subspan(1, 1), replaced.data(), 2);
  store.remove("L2");  // the listing's vector goes with it
  auto changes = store.vector_changes_since("text", built_at);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].key, listings[1].key);
  EXPECT_FALSE(changes[0].deleted);
  EXPECT_EQ(changes[1].key, listings[2].key);
  EXPECT_TRUE(changes[1].deleted);
  EXPECT_GT(store.vector_log_head("text"), built_at);

  auto some = store.vectors("text", std::vector<int64_t>{listings[1].key, 999});
  ASSERT_EQ(some.keys.size(), 1u);
  EXPECT_EQ(some.data, replaced);
}

TEST(CatalogStoreVectorLog, ANewSourceWithTheSameBytesIsStoredButNotLogged) {
  TestDir dir;
  auto store = CatalogStore::open(dir.path() / "c.db", true);
  std::vector<Listing> listings = {make("a", "A"), make("b", "B")};
  store.upsert(listings);
  const std::vector<int64_t> keys = {listings[0].key, listings[1].key};
  const std::vector<float> data = {1, 0, 0, 1};
  store.put_vectors("text", keys, data.data(), 2);  // without sources: 0, "unknown"
  EXPECT_EQ(store.vector_sources("text"),
            (std::unordered_map<int64_t, uint64_t>{{keys[0], 0}, {keys[1], 0}}));
  const int64_t head = store.vector_log_head("text");
  // Sources span the whole uint64 range (stored as SQLite's signed integer).
  const std::vector<uint64_t> sources = {~uint64_t{0}, 7};
  store.put_vectors("text", keys, data.data(), 2, sources);
  EXPECT_EQ(store.vector_sources("text"),
            (std::unordered_map<int64_t, uint64_t>{{keys[0], ~uint64_t{0}}, {keys[1], 7}}));
  EXPECT_EQ(store.vector_log_head("text"), head);
  EXPECT_TRUE(store.vector_sources("image").empty());
}

// The version 1 schema as doppel 0.1 wrote it: what open() must migrate.
constexpr const char* kVersion1Catalog = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE listings(
  key INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '', brand TEXT NOT NULL DEFAULT '',
  category TEXT NOT NULL DEFAULT '', model_number TEXT NOT NULL DEFAULT '', price REAL,
  image TEXT NOT NULL DEFAULT '');
CREATE TABLE labels(
  key_a INTEGER NOT NULL REFERENCES listings(key) ON DELETE CASCADE,
  key_b INTEGER NOT NULL REFERENCES listings(key) ON DELETE CASCADE,
  is_match INTEGER NOT NULL CHECK(is_match IN (0, 1)), split TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT '', PRIMARY KEY(key_a, key_b), CHECK(key_a < key_b))
  WITHOUT ROWID;
CREATE TABLE vector_spaces(space TEXT PRIMARY KEY, dim INTEGER NOT NULL CHECK(dim > 0));
CREATE TABLE vectors(
  space TEXT NOT NULL REFERENCES vector_spaces(space) ON DELETE CASCADE,
  key INTEGER NOT NULL REFERENCES listings(key) ON DELETE CASCADE,
  data BLOB NOT NULL, PRIMARY KEY(space, key)) WITHOUT ROWID;
CREATE TABLE vector_log(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, space TEXT NOT NULL, key INTEGER NOT NULL,
  op TEXT NOT NULL CHECK(op IN ('put', 'delete')));
CREATE TRIGGER vectors_logged_insert AFTER INSERT ON vectors BEGIN
  INSERT INTO vector_log(space, key, op) VALUES(NEW.space, NEW.key, 'put');
END;
CREATE TRIGGER vectors_logged_update AFTER UPDATE ON vectors BEGIN
  INSERT INTO vector_log(space, key, op) VALUES(NEW.space, NEW.key, 'put');
END;
CREATE TRIGGER vectors_logged_delete AFTER DELETE ON vectors BEGIN
  INSERT INTO vector_log(space, key, op) VALUES(OLD.space, OLD.key, 'delete');
END;
INSERT INTO meta VALUES('schema_version', '1');
INSERT INTO listings(id, title, model_number) VALUES('a', 'Lamp', 'LMP-2000');
INSERT INTO listings(id, title) VALUES('b', 'Desk');
INSERT INTO listings(id, title) VALUES('c', 'Desk lamp DL-300X, 2x8GB');
INSERT INTO vector_spaces VALUES('text', 1);
INSERT INTO vectors(space, key, data) VALUES('text', 1, x'0000803f');
)sql";

TEST(CatalogStore, MigratesAVersion1CatalogKeepingItsRowsAndIndexingItsCodes) {
  TestDir dir;
  const auto path = dir.path() / "v1.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, kVersion1Catalog, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  {
    auto store = CatalogStore::open(path);
    EXPECT_EQ(store.meta("schema_version"), "4");
    EXPECT_EQ(store.keys_with_code("lmp2000", 10), std::vector<int64_t>{1});
    EXPECT_EQ(store.keys_with_code("dl300x", 10), std::vector<int64_t>{3});
    EXPECT_TRUE(store.keys_with_code("2x8gb", 10).empty());
    const auto v = store.vectors("text");
    EXPECT_EQ(v.keys, std::vector<int64_t>{1});
    EXPECT_EQ(v.data, std::vector<float>{1.0f});
    EXPECT_EQ(store.vector_sources("text"), (std::unordered_map<int64_t, uint64_t>{{1, 0}}));
    const int64_t head = store.vector_log_head("text");
    const std::vector<int64_t> key = {1};
    const std::vector<uint64_t> source = {42};
    store.put_vectors("text", key, v.data.data(), 1, source);  // same bytes, new source
    EXPECT_EQ(store.vector_log_head("text"), head);
    const float moved = 2.0f;
    store.put_vectors("text", key, &moved, 1, source);
    EXPECT_EQ(store.vector_changes_since("text", head).size(), 1u);
  }
  auto reopened = CatalogStore::open(path);  // already version 4: nothing more to do
  EXPECT_EQ(reopened.vector_sources("text").at(1), 42u);
  EXPECT_EQ(reopened.get("a")->title, "Lamp");
}

TEST(CatalogStore, FindsListingsByCodeThroughUpsertsAndRemovals) {
  TestDir dir;
  auto store = CatalogStore::open(dir.path() / "catalog.db", /*create=*/true);
  std::vector<Listing> items = {make("a", "Camera"), make("b", "Camera W120"),
                                make("c", "Case XYZ-9 for DSC-W120"), make("d", "Cable")};
  items[0].model_number = "DSC-W120";
  items[1].model_number = "dsc w120";
  items[2].model_number = "XYZ-9";
  items[3].model_number = "AB";  // too short to be a code
  store.upsert(items);
  const int64_t a = items[0].key, b = items[1].key, c = items[2].key;
  EXPECT_EQ(store.keys_with_code("dscw120", 10), (std::vector<int64_t>{a, b, c}));
  EXPECT_EQ(store.keys_with_code("dscw120", 2), (std::vector<int64_t>{a, b}));
  EXPECT_EQ(store.keys_with_code("xyz9", 10), std::vector<int64_t>{c});
  EXPECT_TRUE(store.keys_with_code("ab", 10).empty());
  EXPECT_TRUE(store.keys_with_code("", 10).empty());
  std::vector<Listing> changed = {items[1], items[2]};
  changed[0].model_number = "DSC-W130";
  changed[1].title = "Case";  // its title's code goes, its model number's stays
  store.upsert(changed);
  EXPECT_TRUE(store.remove("a"));
  EXPECT_TRUE(store.keys_with_code("dscw120", 10).empty());
  EXPECT_EQ(store.keys_with_code("dscw130", 10), std::vector<int64_t>{b});
  EXPECT_EQ(store.keys_with_code("xyz9", 10), std::vector<int64_t>{c});
}

TEST(CatalogStore, ReadsListingsByKeysAndKeyWindows) {
  TestDir dir;
  auto store = CatalogStore::open(dir.path() / "catalog.db", /*create=*/true);
  std::vector<Listing> items = {make("a", "Lamp"), make("b", "Desk"), make("c", "Chair")};
  store.upsert(items);
  const int64_t a = items[0].key, b = items[1].key, c = items[2].key;
  EXPECT_EQ(store.key_of("b"), b);
  EXPECT_FALSE(store.key_of("absent"));
  const std::vector<int64_t> wanted = {c, 999, a};
  const auto got = store.get_by_keys(wanted);
  ASSERT_EQ(got.size(), 2u);  // the unknown key is left out, the order kept
  EXPECT_EQ(got[0].id, "c");
  EXPECT_EQ(got[1].id, "a");
  std::vector<std::pair<int64_t, std::string>> ids;
  store.for_each_id([&](int64_t key, std::string_view id) { ids.emplace_back(key, id); });
  EXPECT_EQ(ids, (std::vector<std::pair<int64_t, std::string>>{{a, "a"}, {b, "b"}, {c, "c"}}));
  EXPECT_EQ(store.keys_after(0, 2), (std::vector<int64_t>{a, b}));
  EXPECT_EQ(store.keys_after(b, 10), std::vector<int64_t>{c});
  EXPECT_TRUE(store.keys_after(c, 10).empty());
  EXPECT_EQ(store.vector_count("text"), 0u);
  const std::vector<float> rows = {1, 0, 0, 1};
  store.put_vectors("text", std::vector<int64_t>{c, a}, rows.data(), 2);
  EXPECT_EQ(store.vector_count("text"), 2u);
  EXPECT_EQ(store.vector_keys("text"), (std::vector<int64_t>{a, c}));
  const auto page = store.vectors_after("text", a, 5);
  EXPECT_EQ(page.keys, std::vector<int64_t>{c});
  EXPECT_EQ(page.data, (std::vector<float>{1, 0}));
  EXPECT_EQ(store.vectors_after("text", 0, 1).keys, std::vector<int64_t>{a});
  EXPECT_EQ(store.vector_sources("text", b, c), (std::unordered_map<int64_t, uint64_t>{{c, 0}}));
  EXPECT_TRUE(store.vector_sources("text", b, b).empty());
  const auto listings = store.listings_after(a, 1);
  ASSERT_EQ(listings.size(), 1u);
  EXPECT_EQ(listings[0].id, "b");
  EXPECT_TRUE(store.listings_after(c, 5).empty());
  EXPECT_TRUE(store.vector_keys("image").empty());
}

TEST(CatalogStore, TellsWhichPairsHaveNoLabel) {
  TestDir dir;
  auto store = CatalogStore::open(dir.path() / "catalog.db", /*create=*/true);
  std::vector<Listing> items = {make("a", "Lamp"), make("b", "Desk"), make("c", "Chair")};
  store.upsert(items);
  store.add_labels({{"b", "a", true, "train"}});
  const int64_t a = items[0].key, b = items[1].key, c = items[2].key;
  using Pair = std::pair<int64_t, int64_t>;
  const std::vector<Pair> pairs = {{b, c}, {a, b}, {a, c}};
  EXPECT_EQ(store.unlabelled(pairs), (std::vector<Pair>{{b, c}, {a, c}}));
  EXPECT_TRUE(store.unlabelled({}).empty());
}

TEST(CatalogStore, ASnapshotReadsOneCommitWhileAnotherConnectionWrites) {
  TestDir dir;
  const auto path = dir.path() / "catalog.db";
  auto writer = CatalogStore::open(path, /*create=*/true);
  std::vector<Listing> first = {make("a", "Lamp")};
  writer.upsert(first);
  const auto reader = CatalogStore::open(path);
  {
    const auto snapshot = reader.snapshot();
    EXPECT_EQ(reader.size(), 1u);
    std::vector<Listing> second = {make("b", "Desk")};
    writer.upsert(second);  // WAL: the writer does not wait for the reader
    EXPECT_EQ(reader.size(), 1u);
    EXPECT_FALSE(reader.get("b"));
  }
  EXPECT_EQ(reader.size(), 2u);
}

TEST(CatalogReaders, LendsAConnectionPerConcurrentReader) {
  TestDir dir;
  const auto path = dir.path() / "catalog.db";
  EXPECT_THROW(CatalogReaders{path}, Error);  // no catalog there
  {
    auto store = CatalogStore::open(path, /*create=*/true);
    std::vector<Listing> items = {make("a", "Lamp")};
    store.upsert(items);
  }
  const CatalogReaders readers(path);
  EXPECT_EQ(readers.read([](const CatalogStore& c) { return c.get("a")->title; }), "Lamp");
  EXPECT_EQ(readers.read([](const CatalogStore& c) { return c.size(); }), 1u);
  EXPECT_EQ(readers.open_connections(), 1u);  // one reader at a time: one connection
  // Four threads that each hold a connection until all four have one.
  std::atomic<int> holding{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      readers.read([&](const CatalogStore& c) {
        ++holding;
        while (holding.load() < 4) std::this_thread::yield();
        return c.size();
      });
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(readers.open_connections(), 4u);
  EXPECT_EQ(readers.read([](const CatalogStore& c) { return c.size(); }), 1u);
  EXPECT_EQ(readers.open_connections(), 4u);  // reused, not opened again
}

}  // namespace
}  // namespace doppel
