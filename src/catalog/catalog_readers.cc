#include "catalog/catalog_readers.h"

namespace doppel {

CatalogReaders::CatalogReaders(std::filesystem::path db_path) : path_(std::move(db_path)) {
  idle_.push_back(std::make_unique<CatalogStore>(CatalogStore::open(path_)));
  opened_ = 1;
}

size_t CatalogReaders::open_connections() const {
  std::lock_guard lock(mutex_);
  return opened_;
}

CatalogReaders::Lease::Lease(const CatalogReaders& owner) : readers(owner) {
  {
    std::lock_guard lock(readers.mutex_);
    if (!readers.idle_.empty()) {
      store = std::move(readers.idle_.back());
      readers.idle_.pop_back();
      return;
    }
  }
  // Opened outside the lock: other readers need not wait for it.
  store = std::make_unique<CatalogStore>(CatalogStore::open(readers.path_));
  std::lock_guard lock(readers.mutex_);
  ++readers.opened_;
}

CatalogReaders::Lease::~Lease() {
  std::lock_guard lock(readers.mutex_);
  readers.idle_.push_back(std::move(store));
}

}  // namespace doppel
