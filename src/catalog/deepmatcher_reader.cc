// DeepMatcher reader: tableA.csv + tableB.csv and (ltable_id, rtable_id, label) pair files.
#include <fmt/format.h>

#include "catalog/reader_internal.h"
#include "util/error.h"

namespace doppel::catalog_internal {
namespace {

namespace fs = std::filesystem;

const PairFileLayout kDeepMatcherLayout{
    "ltable_id", "rtable_id", "A:", "B:", "tableA.csv", "tableB.csv"};

}  // namespace

void read_deepmatcher(const fs::path& path, const ReadOptions& options, Collector& out) {
  const bool folder = fs::is_directory(path);
  const fs::path dir = folder ? path : path.parent_path();
  for (const char* table : {"tableA.csv", "tableB.csv"}) {
    if (!fs::exists(dir / table)) {
      fail("{}: DeepMatcher set without {} in '{}'", path.string(), table, dir.string());
    }
  }
  read_csv_listings(dir / "tableA.csv", options, "A:", out);
  read_csv_listings(dir / "tableB.csv", options, "B:", out);
  if (!folder) {
    read_pair_csv(path, options, kDeepMatcherLayout, out);
    return;
  }
  for (const char* pairs : {"train.csv", "valid.csv", "val.csv", "test.csv"}) {
    if (fs::exists(dir / pairs)) read_pair_csv(dir / pairs, options, kDeepMatcherLayout, out);
  }
}

}  // namespace doppel::catalog_internal
