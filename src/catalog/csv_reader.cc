// RFC 4180 CSV parsing and the CSV listing reader.
//
// doppel's own parser rather than libcsv: libcsv stops the whole parse at the first malformed
// record (CSV_STRICT) and does not report line numbers, while doppel reports each bad record by
// the physical line it starts on and keeps reading after it.
#include <fmt/format.h>

#include <algorithm>

#include "catalog/reader_internal.h"
#include "util/error.h"

namespace doppel::catalog_internal {

void parse_csv(std::string_view text,
               const std::function<void(std::vector<std::string>& fields, size_t line)>& on_record,
               const std::function<void(size_t line, std::string what)>& on_error) {
  const size_t n = text.size();
  size_t pos = 0;
  size_t line = 1;
  std::vector<std::string> fields;
  std::string field;

  // Moves pos past the end of the physical line it is on (counting that line).
  auto skip_to_next_line = [&] {
    while (pos < n && text[pos] != '\n') ++pos;
    if (pos < n) {
      ++pos;
      ++line;
    }
  };

  while (pos < n) {
    // Blank lines separate nothing: skip them.
    if (text[pos] == '\n') {
      ++pos;
      ++line;
      continue;
    }
    if (text[pos] == '\r' && pos + 1 < n && text[pos + 1] == '\n') {
      pos += 2;
      ++line;
      continue;
    }
    const size_t record_line = line;
    const size_t record_start = pos;
    fields.clear();
    bool record_ok = true;
    while (true) {
      field.clear();
      if (pos < n && text[pos] == '"') {
        ++pos;
        bool closed = false;
        while (pos < n) {
          char c = text[pos];
          if (c == '"') {
            if (pos + 1 < n && text[pos + 1] == '"') {
              field += '"';
              pos += 2;
              continue;
            }
            ++pos;
            closed = true;
            break;
          }
          if (c == '\n') ++line;
          field += c;
          ++pos;
        }
        if (!closed) {
          on_error(record_line, "unterminated quoted field");
          // Resume on the line after the one the record started on.
          pos = record_start;
          line = record_line;
          skip_to_next_line();
          record_ok = false;
          break;
        }
        bool at_end = pos >= n || text[pos] == ',' || text[pos] == '\n' ||
                      (text[pos] == '\r' && pos + 1 < n && text[pos + 1] == '\n');
        if (!at_end) {
          on_error(record_line, fmt::format("unexpected character '{}' after a closing quote "
                                            "(a quote inside a quoted field must be doubled)",
                                            text[pos]));
          skip_to_next_line();
          record_ok = false;
          break;
        }
      } else {
        // Unquoted field: a stray quote inside is kept literally (24" monitor).
        while (pos < n && text[pos] != ',' && text[pos] != '\n' &&
               !(text[pos] == '\r' && pos + 1 < n && text[pos + 1] == '\n')) {
          field += text[pos];
          ++pos;
        }
      }
      fields.push_back(std::move(field));
      if (pos < n && text[pos] == ',') {
        ++pos;
        continue;
      }
      // End of record: newline, CRLF or end of text.
      if (pos < n && text[pos] == '\r') ++pos;
      if (pos < n && text[pos] == '\n') {
        ++pos;
        ++line;
      }
      break;
    }
    if (record_ok) on_record(fields, record_line);
  }
}

void read_csv_listings(const std::filesystem::path& file, const ReadOptions& options,
                       std::string_view id_prefix, Collector& out) {
  std::string text = load_text(file, options);
  bool have_header = false;
  size_t header_size = 0;
  std::array<int, kFieldCount> column_of;
  column_of.fill(-1);

  auto bind_header = [&](std::vector<std::string>& header) {
    for (int i = 0; i < static_cast<int>(header.size()); ++i) {
      auto field = field_for_column(header[i], options.column_map);
      if (field && column_of[*field] < 0) column_of[*field] = i;
    }
    for (const auto& [name, column] : options.column_map) {
      auto field = field_by_name(name);
      if (field && column_of[*field] < 0) {
        fail("{}: --map {}={}: the header has no column '{}'", file.string(), name, column, column);
      }
    }
    if (column_of[kId] < 0) {
      fail("{}: no id column in the header (expected 'id' or 'posting_id', or --map id=COLUMN)",
           file.string());
    }
    header_size = header.size();
    have_header = true;
  };

  FieldValues values;
  parse_csv(
      text,
      [&](std::vector<std::string>& fields, size_t line) {
        if (!have_header) {
          bind_header(fields);
          return;
        }
        if (fields.size() != header_size) {
          out.add_error(file, line,
                        fmt::format("expected {} fields, found {}", header_size, fields.size()));
          return;
        }
        for (int f = 0; f < kFieldCount; ++f) {
          values[f] = column_of[f] >= 0 ? std::move(fields[column_of[f]]) : std::string();
        }
        Listing listing;
        std::string problem = build_listing(values, listing);
        if (!problem.empty()) {
          out.add_error(file, line, problem);
          return;
        }
        listing.id.insert(0, id_prefix);
        out.add_listing(std::move(listing));
        ++out.result().records_read;
      },
      [&](size_t line, std::string what) {
        if (!have_header) fail("{}:{}: bad header row: {}", file.string(), line, what);
        out.add_error(file, line, what);
      });
  if (!have_header) fail("{}: empty file; a CSV catalog needs a header row", file.string());
}

}  // namespace doppel::catalog_internal

namespace doppel {

std::vector<std::vector<std::string>> read_csv_columns(const std::filesystem::path& file,
                                                       std::span<const std::string_view> columns) {
  using namespace catalog_internal;
  const std::string text = load_text(file, ReadOptions{});
  std::vector<size_t> column_of;  // source column of each wanted column
  size_t header_size = 0;
  std::vector<std::vector<std::string>> rows;
  parse_csv(
      text,
      [&](std::vector<std::string>& fields, size_t line) {
        if (header_size == 0) {
          for (std::string_view wanted : columns) {
            const auto at = std::find_if(fields.begin(), fields.end(), [&](const std::string& f) {
              return to_lower(trim(f)) == to_lower(wanted);
            });
            if (at == fields.end()) fail("{}: no column '{}' in the header", file.string(), wanted);
            column_of.push_back(size_t(at - fields.begin()));
          }
          header_size = fields.size();
          return;
        }
        if (fields.size() != header_size) {
          fail("{}:{}: expected {} fields, found {}", file.string(), line, header_size,
               fields.size());
        }
        auto& row = rows.emplace_back();
        for (size_t c : column_of) row.push_back(std::move(fields[c]));
      },
      [&](size_t line, std::string what) { fail("{}:{}: {}", file.string(), line, what); });
  if (header_size == 0) fail("{}: empty file; expected a header row", file.string());
  return rows;
}

}  // namespace doppel
