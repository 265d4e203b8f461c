// DeepMatcher reader: tableA.csv + tableB.csv and (ltable_id, rtable_id, label) pair files.
#include <fmt/format.h>

#include "catalog/reader_internal.h"
#include "util/error.h"

namespace doppel::catalog_internal {
namespace {

namespace fs = std::filesystem;

void read_pair_file(const fs::path& file, const ReadOptions& options, Collector& out) {
  std::string text = load_text(file, options);
  std::string split = split_for(file, options);
  int left = -1, right = -1, label = -1;
  size_t header_size = 0;
  bool have_header = false;
  parse_csv(
      text,
      [&](std::vector<std::string>& fields, size_t line) {
        if (!have_header) {
          for (int i = 0; i < static_cast<int>(fields.size()); ++i) {
            std::string name = to_lower(trim(fields[i]));
            if (name == "ltable_id") left = i;
            if (name == "rtable_id") right = i;
            if (name == "label") label = i;
          }
          if (left < 0 || right < 0 || label < 0) {
            fail("{}:{}: a pair file needs columns ltable_id, rtable_id and label", file.string(),
                 line);
          }
          header_size = fields.size();
          have_header = true;
          return;
        }
        if (fields.size() != header_size) {
          out.add_error(file, line,
                        fmt::format("expected {} fields, found {}", header_size, fields.size()));
          return;
        }
        std::string id_a = "A:" + trim(fields[left]);
        std::string id_b = "B:" + trim(fields[right]);
        std::string verdict = trim(fields[label]);
        if (verdict != "0" && verdict != "1") {
          out.add_error(file, line, fmt::format("label must be 0 or 1, found '{}'", verdict));
          return;
        }
        for (const std::string* id : {&id_a, &id_b}) {
          if (!out.has_id(*id)) {
            out.add_error(
                file, line,
                fmt::format("id '{}' is not in table{}.csv", id->substr(2), id->substr(0, 1)));
            return;
          }
        }
        out.result().labels.push_back(LabeledPair{id_a, id_b, verdict == "1", split});
        ++out.result().records_read;
      },
      [&](size_t line, std::string what) {
        if (!have_header) fail("{}:{}: bad header row: {}", file.string(), line, what);
        out.add_error(file, line, what);
      });
  if (!have_header) fail("{}: empty pair file; expected a header row", file.string());
}

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
    read_pair_file(path, options, out);
    return;
  }
  for (const char* pairs : {"train.csv", "valid.csv", "val.csv", "test.csv"}) {
    if (fs::exists(dir / pairs)) read_pair_file(dir / pairs, options, out);
  }
}

}  // namespace doppel::catalog_internal
