// Shared reader pieces and the format dispatch of read_catalog().
#include "catalog/readers.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>

#include "catalog/reader_internal.h"
#include "util/error.h"
#include "util/files.h"
#include "util/utf8.h"

namespace doppel {
namespace catalog_internal {
namespace {

constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "id", "title", "description", "brand", "category", "model_number", "price", "image"};

// Default source columns per field (lowercase).
const std::array<std::vector<std::string_view>, kFieldCount>& default_aliases() {
  static const std::array<std::vector<std::string_view>, kFieldCount> aliases = {{
      {"id", "posting_id"},
      {"title", "name"},
      {"description"},
      {"brand", "manufacturer"},
      {"category"},
      {"model_number", "modelno", "model", "mpn"},
      {"price"},
      {"image", "image_path", "image_url"},
  }};
  return aliases;
}

}  // namespace

std::string_view field_name(int field) { return kFieldNames[field]; }

std::optional<int> field_by_name(std::string_view name) {
  for (int f = 0; f < kFieldCount; ++f) {
    if (kFieldNames[f] == name) return f;
  }
  return std::nullopt;
}

std::optional<int> field_for_column(std::string_view column,
                                    const std::map<std::string, std::string>& column_map) {
  std::string lower = to_lower(trim(column));
  // An explicit mapping wins, and a mapped field no longer accepts its default names.
  for (const auto& [field, source] : column_map) {
    if (to_lower(source) == lower) return field_by_name(field);
  }
  for (int f = 0; f < kFieldCount; ++f) {
    if (column_map.count(std::string(kFieldNames[f]))) continue;
    for (std::string_view alias : default_aliases()[f]) {
      if (alias == lower) return f;
    }
  }
  return std::nullopt;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool parse_price(std::string_view text, std::optional<double>* out) {
  std::string s = trim(text);
  if (s.empty()) {
    *out = std::nullopt;
    return true;
  }
  // A leading currency symbol: $ or a multi-byte one (€ £ ¥ ₹).
  for (std::string_view sym : {"$", "\xE2\x82\xAC", "\xC2\xA3", "\xC2\xA5", "\xE2\x82\xB9"}) {
    if (s.starts_with(sym)) {
      s = trim(std::string_view(s).substr(sym.size()));
      break;
    }
  }
  std::erase(s, ',');
  if (s.empty()) return false;
  double value = 0;
  const char* begin = s.data();
  if (*begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(value)) return false;
  *out = value;
  return true;
}

std::string build_listing(FieldValues& values, Listing& out) {
  for (int f = 0; f < kFieldCount; ++f) {
    values[f] = trim(values[f]);
    if (auto bad = find_invalid_utf8(values[f])) {
      return fmt::format("field '{}' is not valid UTF-8 at byte {} (use --encoding latin1?)",
                         field_name(f), *bad);
    }
  }
  if (values[kId].empty()) return "empty id";
  if (values[kTitle].empty()) return "missing or empty title";
  std::optional<double> price;
  if (!parse_price(values[kPrice], &price)) {
    return fmt::format("field 'price' is not a number: '{}'", values[kPrice]);
  }
  out = Listing{};
  out.id = std::move(values[kId]);
  out.title = std::move(values[kTitle]);
  out.description = std::move(values[kDescription]);
  out.brand = std::move(values[kBrand]);
  out.category = std::move(values[kCategory]);
  out.model_number = std::move(values[kModelNumber]);
  out.price = price;
  out.image = std::move(values[kImage]);
  return "";
}

std::string load_text(const std::filesystem::path& path, const ReadOptions& options) {
  std::string bytes = read_file(path);
  std::string enc = to_lower(options.encoding);
  if (enc == "latin1" || enc == "latin-1" || enc == "iso-8859-1") {
    bytes = latin1_to_utf8(bytes);
  }
  if (bytes.starts_with("\xEF\xBB\xBF")) bytes.erase(0, 3);
  return bytes;
}

std::string split_for(const std::filesystem::path& file, const ReadOptions& options) {
  if (!options.split.empty()) return options.split;
  std::string name = to_lower(file.filename().string());
  if (name.starts_with("train")) return "train";
  if (name.starts_with("val")) return "valid";  // valid*, val*
  if (name.starts_with("test")) return "test";
  return "";
}

void Collector::add_listing(Listing listing) {
  auto [it, inserted] = index_.try_emplace(listing.id, result_.listings.size());
  if (inserted) {
    result_.listings.push_back(std::move(listing));
  } else {
    result_.listings[it->second] = std::move(listing);
  }
}

void Collector::add_error(const std::filesystem::path& file, size_t line, std::string_view what) {
  result_.errors.push_back(fmt::format("{}:{}: {}", file.string(), line, what));
}

}  // namespace catalog_internal

using namespace catalog_internal;

CatalogFormat parse_catalog_format(std::string_view name) {
  std::string n = to_lower(name);
  if (n == "auto") return CatalogFormat::kAuto;
  if (n == "csv") return CatalogFormat::kCsv;
  if (n == "jsonl") return CatalogFormat::kJsonLines;
  if (n == "ditto") return CatalogFormat::kDitto;
  if (n == "deepmatcher") return CatalogFormat::kDeepMatcher;
  if (n == "pairs") return CatalogFormat::kPairs;
  fail("unknown catalog format '{}' (use auto, csv, jsonl, ditto, deepmatcher or pairs)", name);
}

std::map<std::string, std::string> parse_column_map(std::string_view spec) {
  std::map<std::string, std::string> out;
  if (trim(spec).empty()) return out;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    if (comma == std::string_view::npos) comma = spec.size();
    std::string_view entry = spec.substr(pos, comma - pos);
    pos = comma + 1;
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos) fail("bad --map entry '{}': expected field=column", entry);
    std::string field = to_lower(trim(entry.substr(0, eq)));
    std::string column = trim(entry.substr(eq + 1));
    if (field.empty() || column.empty()) fail("bad --map entry '{}': empty side", entry);
    if (!field_by_name(field)) {
      fail(
          "bad --map entry '{}': unknown field '{}' (fields: id, title, description, brand, "
          "category, model_number, price, image)",
          entry, field);
    }
    out[field] = column;
  }
  return out;
}

namespace {

std::string first_nonblank_line(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open '{}'", path.string());
  std::string line;
  while (std::getline(in, line)) {
    std::string t = trim(line);
    if (!t.empty()) return t;
  }
  return "";
}

CatalogFormat detect_format(const std::filesystem::path& path) {
  if (auto format = sniff_catalog_format(path)) return *format;
  fail("{}: cannot tell the catalog format from the name or first line; pass --format",
       path.string());
}

}  // namespace

std::optional<CatalogFormat> sniff_catalog_format(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  if (fs::is_directory(path)) {
    if (fs::exists(path / "tableA.csv")) return CatalogFormat::kDeepMatcher;
    fail("{}: a folder is read only as a DeepMatcher set (tableA.csv, tableB.csv, pair files)",
         path.string());
  }
  if (!fs::exists(path)) fail("{}: no such file", path.string());
  std::string ext = to_lower(path.extension().string());
  if (ext == ".jsonl" || ext == ".json" || ext == ".ndjson") return CatalogFormat::kJsonLines;
  std::string first = first_nonblank_line(path);
  if (first.starts_with("\xEF\xBB\xBF")) first.erase(0, 3);
  if (ext == ".csv") {
    std::string header = to_lower(first);
    std::erase(header, '"');
    std::erase(header, ' ');
    if (header.starts_with("ltable_id,rtable_id")) return CatalogFormat::kDeepMatcher;
    if (header.starts_with("id_a,id_b")) return CatalogFormat::kPairs;
    return CatalogFormat::kCsv;
  }
  if (first.starts_with("COL ")) return CatalogFormat::kDitto;
  return std::nullopt;
}

ReadResult read_catalog(const std::filesystem::path& path, const ReadOptions& options) {
  std::string enc = to_lower(options.encoding);
  if (enc != "utf-8" && enc != "utf8" && enc != "latin1" && enc != "latin-1" &&
      enc != "iso-8859-1") {
    fail("unknown encoding '{}' (use utf-8 or latin1)", options.encoding);
  }
  for (const auto& [field, column] : options.column_map) {
    if (!field_by_name(field)) fail("bad --map entry '{}={}': unknown field", field, column);
  }
  CatalogFormat format = options.format;
  if (format == CatalogFormat::kAuto) format = detect_format(path);
  ReadResult result;
  Collector out(result);
  switch (format) {
    case CatalogFormat::kCsv:
      read_csv_listings(path, options, "", out);
      break;
    case CatalogFormat::kJsonLines:
      read_jsonl_listings(path, options, out);
      break;
    case CatalogFormat::kDitto:
      read_ditto_pairs(path, options, out);
      break;
    case CatalogFormat::kDeepMatcher:
      read_deepmatcher(path, options, out);
      break;
    case CatalogFormat::kPairs:
      read_pair_csv(path, options, kDoppelPairLayout, out);
      break;
    case CatalogFormat::kAuto:
      break;
  }
  return result;
}

}  // namespace doppel
