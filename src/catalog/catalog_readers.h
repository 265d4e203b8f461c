// CatalogReaders — read connections to one catalog.db shared by many threads. A CatalogStore is
// one SQLite connection and serves one thread at a time; read() lends a connection for the
// length of a call, opening another one only when every open one is lent (so there are never
// more than the most concurrent readers). SQLite's WAL mode lets them read while a writer
// commits: each read sees the catalog as last committed. (They read with plain read calls: a
// memory map per connection cost more in page faults than it saved; docs/decisions.md.)
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "catalog/catalog_store.h"

namespace doppel {

class CatalogReaders {
 public:
  // Opens one connection now, so a missing or foreign file is an Error here (as in
  // CatalogStore::open), not at the first read.
  explicit CatalogReaders(std::filesystem::path db_path);

  // Runs read(const CatalogStore&) on a lent connection, in one read transaction (its reads see
  // one commit's catalog), and returns what it returns.
  template <typename Read>
  auto read(Read&& read) const {
    Lease lease(*this);
    const CatalogStore& store = *lease.store;
    const auto snapshot = store.snapshot();
    return read(store);
  }

  size_t open_connections() const;

 private:
  struct Lease {
    explicit Lease(const CatalogReaders& readers);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    const CatalogReaders& readers;
    std::unique_ptr<CatalogStore> store;
  };

  std::filesystem::path path_;
  mutable std::mutex mutex_;
  mutable std::vector<std::unique_ptr<CatalogStore>> idle_;
  mutable size_t opened_ = 0;
};

}  // namespace doppel
