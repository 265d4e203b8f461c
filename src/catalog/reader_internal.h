// Pieces shared by the catalog readers (not part of the public API): field mapping, value
// checks, the result collector and the RFC 4180 CSV parser.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "catalog/readers.h"
#include "util/strings.h"

namespace doppel::catalog_internal {

enum Field : int { kId, kTitle, kDescription, kBrand, kCategory, kModelNumber, kPrice, kImage };
inline constexpr int kFieldCount = 8;

std::string_view field_name(int field);
// The doppel field a doppel field name denotes ("title" -> kTitle), or nullopt.
std::optional<int> field_by_name(std::string_view name);
// The doppel field a source column supplies under `column_map` and the default aliases.
std::optional<int> field_for_column(std::string_view column,
                                    const std::map<std::string, std::string>& column_map);

// Raw text of each doppel field for one record; absent fields stay empty.
using FieldValues = std::array<std::string, kFieldCount>;

// Trims and checks the values and fills `out` (key stays -1). Returns "" on success, otherwise
// what is wrong (no FILE:LINE prefix).
std::string build_listing(FieldValues& values, Listing& out);

// Parses a price: empty -> nullopt in *out; "$1,299.00" -> 1299. Returns false when not numeric.
bool parse_price(std::string_view text, std::optional<double>* out);

std::string to_lower(std::string_view text);

// Reads the file and converts it to UTF-8 per options.encoding; strips a UTF-8 BOM.
std::string load_text(const std::filesystem::path& path, const ReadOptions& options);

// The split for pairs read from `file`: options.split when set, otherwise from the file name.
std::string split_for(const std::filesystem::path& file, const ReadOptions& options);

// Accumulates a ReadResult with upsert-by-id semantics.
class Collector {
 public:
  explicit Collector(ReadResult& result) : result_(result) {}
  void add_listing(Listing listing);
  void add_error(const std::filesystem::path& file, size_t line, std::string_view what);
  bool has_id(const std::string& id) const { return index_.count(id) != 0; }
  ReadResult& result() { return result_; }

 private:
  ReadResult& result_;
  std::unordered_map<std::string, size_t> index_;
};

// RFC 4180 parser over a whole file's text. Calls on_record(fields, first_line) for each record
// and on_error(line, what) for each malformed one; blank lines are skipped.
void parse_csv(std::string_view text,
               const std::function<void(std::vector<std::string>& fields, size_t line)>& on_record,
               const std::function<void(size_t line, std::string what)>& on_error);

// Reads a CSV listing table into `out`, prefixing every id with id_prefix.
void read_csv_listings(const std::filesystem::path& file, const ReadOptions& options,
                       std::string_view id_prefix, Collector& out);
void read_jsonl_listings(const std::filesystem::path& file, const ReadOptions& options,
                         Collector& out);
void read_ditto_pairs(const std::filesystem::path& file, const ReadOptions& options,
                      Collector& out);
// Column names and id conventions of a labelled pair CSV.
struct PairFileLayout {
  std::string_view left_column, right_column;  // lower-case header names
  std::string_view left_prefix, right_prefix;  // prepended to the ids read
  std::string_view left_source, right_source;  // where ids must exist, for error messages
};
inline constexpr PairFileLayout kDoppelPairLayout{"id_a", "id_b",        "",
                                                  "",     "the catalog", "the catalog"};
// Reads labelled pairs (plus an optional split column) into out.result().labels. An id must be
// in `out` or accepted by options.known_id; otherwise the line is an error.
void read_pair_csv(const std::filesystem::path& file, const ReadOptions& options,
                   const PairFileLayout& layout, Collector& out);
void read_deepmatcher(const std::filesystem::path& path, const ReadOptions& options,
                      Collector& out);

}  // namespace doppel::catalog_internal
