// Ditto pair-file reader: "COL a VAL v ...<TAB>COL a VAL v ...<TAB>label" per line.
#include <fmt/format.h>

#include "catalog/reader_internal.h"
#include "util/hash.h"

namespace doppel::catalog_internal {
namespace {

// Whitespace runs collapsed to one space, ends trimmed: the text a side's id is hashed from.
std::string collapse_whitespace(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Ditto's attribute names that are not doppel field names.
std::optional<int> ditto_field(std::string_view attr) {
  if (attr == "name") return kTitle;
  if (attr == "manufacturer") return kBrand;
  if (attr == "modelno" || attr == "model" || attr == "mpn") return kModelNumber;
  if (attr == "id") return std::nullopt;  // never let a record attribute pick the id
  return field_by_name(attr);
}

// Parses one side into a listing; returns "" or what is wrong. Parsed as written, not with its
// whitespace collapsed: Ditto writes "COL a VAL v " per attribute, so an empty value is
// "VAL  COL" (two spaces), which collapsing would turn into a value that starts with "COL ".
std::string parse_side(std::string_view side, Listing& out) {
  const size_t first = std::min(side.find_first_not_of(" \t\r\n\f\v"), side.size());
  const std::string_view text = side.substr(first);
  if (!text.starts_with("COL ")) return "record does not start with 'COL '";
  FieldValues values;
  std::vector<std::string> extras;
  size_t pos = 0;
  bool has_title_attr = false;
  while (pos < text.size()) {
    // At "COL ": the attribute name runs to " VAL"; after the one space that follows VAL, the
    // value runs to the next " COL ".
    pos += 4;
    size_t val = text.find(" VAL", pos);
    if (val == std::string::npos || (val + 4 < text.size() && text[val + 4] != ' ')) {
      return fmt::format("attribute at byte {} has no VAL", pos);
    }
    std::string attr = to_lower(trim(text.substr(pos, val - pos)));
    size_t value_start = std::min(val + 5, text.size());
    size_t next = text.find(" COL ", value_start);
    if (next == std::string::npos) next = text.size();
    std::string value = collapse_whitespace(text.substr(value_start, next - value_start));
    pos = next == text.size() ? next : next + 1;

    auto field = ditto_field(attr);
    if (field == kTitle) has_title_attr = true;
    if (field && values[*field].empty()) {
      values[*field] = std::move(value);
    } else if (!value.empty()) {
      extras.push_back(fmt::format("{}: {}", attr, value));
    }
  }
  if (!has_title_attr) return "no 'title' or 'name' attribute";
  for (auto& extra : extras) {
    std::string& d = values[kDescription];
    if (!d.empty()) d += "; ";
    d += extra;
  }
  values[kId] = fmt::format("h{:016x}", fnv1a64(collapse_whitespace(text)));
  return build_listing(values, out);
}

}  // namespace

void read_ditto_pairs(const std::filesystem::path& file, const ReadOptions& options,
                      Collector& out) {
  std::string text = load_text(file, options);
  std::string split = split_for(file, options);
  std::string_view rest = text;
  size_t line_no = 0;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    ++line_no;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (trim(line).empty()) continue;

    std::vector<std::string_view> parts;
    size_t start = 0;
    while (true) {
      size_t tab = line.find('\t', start);
      parts.push_back(line.substr(start, tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (parts.size() != 3) {
      out.add_error(file, line_no,
                    fmt::format("expected 3 tab-separated parts (left, right, label), found {}",
                                parts.size()));
      continue;
    }
    std::string label = trim(parts[2]);
    if (label != "0" && label != "1") {
      out.add_error(file, line_no, fmt::format("label must be 0 or 1, found '{}'", label));
      continue;
    }
    Listing left, right;
    std::string problem = parse_side(parts[0], left);
    if (!problem.empty()) {
      out.add_error(file, line_no, "left record: " + problem);
      continue;
    }
    problem = parse_side(parts[1], right);
    if (!problem.empty()) {
      out.add_error(file, line_no, "right record: " + problem);
      continue;
    }
    out.result().labels.push_back(LabeledPair{left.id, right.id, label == "1", split});
    out.add_listing(std::move(left));
    out.add_listing(std::move(right));
    ++out.result().records_read;
  }
}

}  // namespace doppel::catalog_internal
