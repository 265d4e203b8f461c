// JSON Lines listing reader: one JSON object per line.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "catalog/reader_internal.h"
#include "util/utf8.h"

namespace doppel::catalog_internal {
namespace {

// Fills values[field] from a JSON value; returns "" or what is wrong.
std::string take_value(int field, const nlohmann::json& v, FieldValues& values) {
  if (v.is_null()) return "";
  if (v.is_string()) {
    values[field] = v.get<std::string>();
    return "";
  }
  if (field == kId && (v.is_number_integer() || v.is_number_unsigned())) {
    values[field] = v.dump();
    return "";
  }
  if (field == kPrice && v.is_number()) {
    values[field] = fmt::format("{}", v.get<double>());
    return "";
  }
  const char* expected = field == kId      ? "a string or an integer"
                         : field == kPrice ? "a number or a string"
                                           : "a string";
  return fmt::format("field '{}' must be {}, found {}", field_name(field), expected, v.type_name());
}

// nlohmann's messages start with "[json.exception.parse_error.101] parse error at line 1, ";
// keep the part a user can act on.
std::string short_parse_error(const std::string& what) {
  size_t p = what.find("column ");
  return p == std::string::npos ? what : what.substr(p);
}

}  // namespace

void read_jsonl_listings(const std::filesystem::path& file, const ReadOptions& options,
                         Collector& out) {
  std::string text = load_text(file, options);
  std::string_view rest = text;
  size_t line_no = 0;
  FieldValues values;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    ++line_no;
    if (trim(line).empty()) continue;
    if (auto bad = find_invalid_utf8(line)) {
      out.add_error(file, line_no,
                    fmt::format("not valid UTF-8 at byte {} (use --encoding latin1?)", *bad));
      continue;
    }
    nlohmann::json object;
    try {
      object = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      out.add_error(file, line_no, fmt::format("not valid JSON: {}", short_parse_error(e.what())));
      continue;
    }
    if (!object.is_object()) {
      out.add_error(file, line_no,
                    fmt::format("expected a JSON object, found {}", object.type_name()));
      continue;
    }
    for (auto& v : values) v.clear();
    std::array<bool, kFieldCount> seen{};
    std::string problem;
    for (const auto& [key, value] : object.items()) {
      auto field = field_for_column(key, options.column_map);
      if (!field || seen[*field]) continue;
      seen[*field] = true;
      problem = take_value(*field, value, values);
      if (!problem.empty()) break;
    }
    if (problem.empty() && !seen[kId]) problem = "no id field";
    Listing listing;
    if (problem.empty()) problem = build_listing(values, listing);
    if (!problem.empty()) {
      out.add_error(file, line_no, problem);
      continue;
    }
    out.add_listing(std::move(listing));
    ++out.result().records_read;
  }
}

}  // namespace doppel::catalog_internal
