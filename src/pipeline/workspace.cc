#include "pipeline/workspace.h"

#include "util/error.h"

namespace doppel {

Workspace::Workspace(std::filesystem::path root, CatalogStore catalog)
    : root_(std::move(root)), catalog_(std::move(catalog)) {}

Workspace Workspace::init(const std::filesystem::path& root) {
  if (std::filesystem::exists(root / "catalog.db"))
    fail("{}: already a doppel workspace (catalog.db exists)", root.string());
  for (auto sub : {"models", "index", "reports"}) std::filesystem::create_directories(root / sub);
  return Workspace(root, CatalogStore::open(root / "catalog.db", /*create=*/true));
}

Workspace Workspace::open(const std::filesystem::path& root) {
  if (!std::filesystem::exists(root / "catalog.db"))
    fail("{}: not a doppel workspace (no catalog.db); create one with `doppel init {}`",
         root.string(), root.string());
  return Workspace(root, CatalogStore::open(root / "catalog.db"));
}

std::filesystem::path Workspace::index_path(std::string_view space) const {
  return root_ / "index" / (std::string(space) + ".index");
}

}  // namespace doppel
