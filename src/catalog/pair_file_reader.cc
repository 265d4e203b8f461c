// Labelled pair CSV files: DeepMatcher's (ltable_id, rtable_id, label) and doppel's own
// (id_a, id_b, label[, split]) share one reader that differs only in column names and ids.
#include <fmt/format.h>

#include "catalog/reader_internal.h"
#include "util/error.h"

namespace doppel::catalog_internal {

void read_pair_csv(const std::filesystem::path& file, const ReadOptions& options,
                   const PairFileLayout& layout, Collector& out) {
  std::string text = load_text(file, options);
  const std::string file_split = split_for(file, options);
  int left = -1, right = -1, label = -1, split = -1;
  size_t header_size = 0;
  bool have_header = false;
  auto known = [&](const std::string& id) {
    return out.has_id(id) || (options.known_id && options.known_id(id));
  };
  parse_csv(
      text,
      [&](std::vector<std::string>& fields, size_t line) {
        if (!have_header) {
          for (int i = 0; i < static_cast<int>(fields.size()); ++i) {
            std::string name = to_lower(trim(fields[i]));
            if (name == layout.left_column) left = i;
            if (name == layout.right_column) right = i;
            if (name == "label") label = i;
            if (name == "split") split = i;
          }
          if (left < 0 || right < 0 || label < 0) {
            fail("{}:{}: a pair file needs columns {}, {} and label", file.string(), line,
                 layout.left_column, layout.right_column);
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
        std::string id_a = std::string(layout.left_prefix) + trim(fields[left]);
        std::string id_b = std::string(layout.right_prefix) + trim(fields[right]);
        std::string verdict = trim(fields[label]);
        if (verdict != "0" && verdict != "1") {
          out.add_error(file, line, fmt::format("label must be 0 or 1, found '{}'", verdict));
          return;
        }
        // A split named by the caller may be any name; one in the row must be a known split, so
        // a typo does not hide pairs from the decider.
        const bool row_split = split >= 0 && !trim(fields[split]).empty() && options.split.empty();
        std::string pair_split = row_split ? trim(fields[split]) : file_split;
        if (row_split && !is_standard_split(pair_split)) {
          out.add_error(file, line,
                        fmt::format("split must be train, valid or test, found '{}'", pair_split));
          return;
        }
        if (!known(id_a) || !known(id_b)) {
          bool left_unknown = !known(id_a);
          out.add_error(
              file, line,
              fmt::format("id '{}' is not in {}", trim(fields[left_unknown ? left : right]),
                          left_unknown ? layout.left_source : layout.right_source));
          return;
        }
        out.result().labels.push_back(LabeledPair{id_a, id_b, verdict == "1", pair_split});
        ++out.result().records_read;
      },
      [&](size_t line, std::string what) {
        if (!have_header) fail("{}:{}: bad header row: {}", file.string(), line, what);
        out.add_error(file, line, what);
      });
  if (!have_header) fail("{}: empty pair file; expected a header row", file.string());
}

}  // namespace doppel::catalog_internal
