// Catalog readers — turn a file of listings (CSV, JSON Lines) or of labelled pairs (Ditto pair
// files, DeepMatcher table folders) into Listing and LabeledPair records.
//
// A reader never stops at a bad line: each line it cannot use becomes one entry in
// ReadResult::errors ("FILE:LINE: what is wrong") and the remaining lines are still read. Errors
// that make the whole file unusable (no such file, no id column, unknown format or encoding)
// throw doppel::Error naming the file. The caller owns everything in the returned ReadResult.
//
// Doppel fields and the source columns accepted for them by default (case-insensitive):
//   id           id | posting_id
//   title        title | name                 (required, non-empty)
//   description  description
//   brand        brand | manufacturer
//   category     category
//   model_number model_number | modelno | model | mpn
//   price        price                        (number; a leading currency symbol and thousands
//                                              commas are accepted; empty = no price)
//   image        image | image_path | image_url
// ReadOptions::column_map replaces the defaults for the fields it names. Text fields are
// whitespace-trimmed and must be valid UTF-8 (after the --encoding conversion).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/listing.h"

namespace doppel {

enum class CatalogFormat { kAuto, kCsv, kJsonLines, kDitto, kDeepMatcher, kPairs };

// "auto", "csv", "jsonl", "ditto", "deepmatcher", "pairs" (case-insensitive); doppel::Error
// otherwise.
CatalogFormat parse_catalog_format(std::string_view name);

struct ReadOptions {
  // kAuto: a folder holding tableA.csv -> DeepMatcher; .csv -> CSV (DeepMatcher when its header
  // starts with ltable_id,rtable_id; labelled pairs when it starts with id_a,id_b);
  // .jsonl/.json/.ndjson -> JSON Lines; any other file whose first non-blank line starts with "COL
  // " -> Ditto; anything else is an Error.
  CatalogFormat format = CatalogFormat::kAuto;
  // doppel field -> source column, e.g. {"title":"name","price":"cost"}; see parse_column_map().
  std::map<std::string, std::string> column_map;
  // "utf-8" (also "utf8") or "latin1" (also "latin-1", "iso-8859-1"): latin1 bytes are converted
  // to UTF-8 before parsing. Anything else is an Error.
  std::string encoding = "utf-8";
  // Split recorded on labelled pairs, any name: the decider reads train and valid; other names
  // keep pairs apart for `eval --split NAME`.
  // "" = inferred from each pair file's name (train* -> "train", valid*/val* -> "valid",
  // test* -> "test", otherwise "") or, in doppel's pair CSV, from its split column.
  std::string split;
  // Pair files may name listings stored earlier: an id not in the file itself is accepted when
  // this returns true (ingest passes a catalog lookup). Unset: only ids in the file are known.
  std::function<bool(const std::string& id)> known_id;
};

// Parses "title=name,price=cost" into {"title":"name","price":"cost"}. Throws doppel::Error
// "bad --map entry 'x'" for an entry without '=', with an empty side, or naming an unknown
// doppel field.
std::map<std::string, std::string> parse_column_map(std::string_view spec);

struct ReadResult {
  // Unique by id, in first-seen order; a later record with the same id replaces the earlier
  // record's fields (upsert semantics). key is -1 on all of them (not stored yet).
  std::vector<Listing> listings;
  std::vector<LabeledPair> labels;  // in file order; Ditto/DeepMatcher/pairs only
  std::vector<std::string> errors;  // one per skipped line: "FILE:LINE: what is wrong"
  size_t records_read = 0;          // lines/records successfully parsed (listing rows + pair rows)
};

// The format `--format auto` reads `path` as, told from its extension and first non-blank line:
// .jsonl/.json/.ndjson, .csv (DeepMatcher pair file, doppel pairs or a listing CSV), a DeepMatcher
// folder, or a Ditto pair file (first line "COL ..."); nullopt when neither tells, as for a plain
// text file. doppel::Error when the path does not exist or is a folder of another kind.
std::optional<CatalogFormat> sniff_catalog_format(const std::filesystem::path& path);

// Reads a catalog file (or a DeepMatcher folder). See the file comment for the error contract.
//
// Format notes:
// - CSV: RFC 4180 via doppel's own parser (quoted fields with commas, doubled quotes and
//   newlines, CRLF or LF line ends, UTF-8 BOM skipped, blank lines skipped). A header row is
//   required. A line reports the physical line its record starts on. A record with the wrong
//   number of fields, text after a closing quote, or an unterminated quote is a line error; after
//   an unterminated quote reading resumes on the line after the one where the record started.
// - JSON Lines: one object per line; blank lines skipped; id may be a string or an integer.
// - Ditto: "COL a VAL v ...<TAB>COL a VAL v ...<TAB>0|1". Records carry no ids: each side gets
//   id "h" + 16 hex digits of the FNV-1a 64-bit hash of its text with whitespace collapsed, so a
//   record gets the same id in every pair and every file it appears in. Attributes outside the
//   field table are appended to description as "attr: value" (joined by "; ").
// - DeepMatcher: tableA.csv + tableB.csv (listing ids "A:<id>", "B:<id>") and pair files
//   train/valid/test.csv (ltable_id,rtable_id,label). `path` is the folder (every pair file
//   present is read) or one pair file (the tables beside it + that file).
// - pairs: doppel's labelled pair CSV, header id_a,id_b,label[,split] (label 0/1; split train,
//   valid or test, overridden by ReadOptions::split, which may be any name). Ids refer to
//   listings already stored.
ReadResult read_catalog(const std::filesystem::path& path, const ReadOptions& options = {});

// Reads the named columns of a UTF-8 CSV file with a header row (names case-insensitive, in any
// order; other columns are ignored) for tables that are not listings: ground-truth clusters,
// benchmark sources. One row per record, its values in the order of `columns`. Strict: throws
// doppel::Error "FILE:LINE: what" on the first malformed record, "FILE: ..." when the file is
// empty or a column is missing.
std::vector<std::vector<std::string>> read_csv_columns(const std::filesystem::path& file,
                                                       std::span<const std::string_view> columns);

}  // namespace doppel
