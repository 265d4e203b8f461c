#include "catalog/readers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "catalog/test_dir.h"
#include "util/error.h"

namespace doppel {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::TestDir;

std::string err_prefix(const fs::path& file, int line) {
  return file.string() + ":" + std::to_string(line) + ": ";
}

TEST(ParseCatalogFormat, KnownNamesAndError) {
  EXPECT_EQ(parse_catalog_format("auto"), CatalogFormat::kAuto);
  EXPECT_EQ(parse_catalog_format("CSV"), CatalogFormat::kCsv);
  EXPECT_EQ(parse_catalog_format("jsonl"), CatalogFormat::kJsonLines);
  EXPECT_EQ(parse_catalog_format("ditto"), CatalogFormat::kDitto);
  EXPECT_EQ(parse_catalog_format("deepmatcher"), CatalogFormat::kDeepMatcher);
  EXPECT_THROW(parse_catalog_format("xml"), Error);
}

TEST(ParseColumnMap, ParsesEntries) {
  auto m = parse_column_map("title=name, price = cost");
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m["title"], "name");
  EXPECT_EQ(m["price"], "cost");
  EXPECT_TRUE(parse_column_map("").empty());
}

TEST(ParseColumnMap, RejectsMalformedEntries) {
  for (const char* bad : {"title", "title=", "=name", "colour=c", "title=name,,"}) {
    try {
      parse_column_map(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), StartsWith("bad --map entry '")) << bad;
    }
  }
}

TEST(ReadCsvColumns, NamedColumnsInAnyOrderAndStrictErrors) {
  TestDir dir;
  auto file = dir.write("clusters.csv", "Cluster_ID,extra,id\r\n7,x,\"a,1\"\r\n8,y,b\r\n");
  const std::string_view columns[] = {"id", "cluster_id"};
  EXPECT_THAT(read_csv_columns(file, columns),
              ElementsAre(ElementsAre("a,1", "7"), ElementsAre("b", "8")));
  auto short_row = dir.write("short.csv", "id,cluster_id\na,1\nb\n");
  try {
    read_csv_columns(short_row, columns);
    FAIL() << "a short row must throw";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), StartsWith(err_prefix(short_row, 3)));
  }
  auto no_column = dir.write("no_column.csv", "id,group\na,1\n");
  EXPECT_THROW(read_csv_columns(no_column, columns), Error);
  EXPECT_THROW(read_csv_columns(dir.write("empty.csv", ""), columns), Error);
}

TEST(CsvReader, Rfc4180QuotingAndCrlf) {
  TestDir dir;
  auto file = dir.write("items.csv",
                        "id,title,description,price\r\n"
                        "1,\"Cable, USB-C\",\"a \"\"fast\"\" one\",9.5\r\n"
                        "2,Mouse,\"line one\r\nline two\nline three\",\r\n"
                        "3,Keyboard,plain,\r\n"
                        "4,Broken,only three\r\n");
  ReadResult r = read_catalog(file);
  ASSERT_EQ(r.listings.size(), 3u);
  EXPECT_EQ(r.records_read, 3u);
  EXPECT_EQ(r.listings[0].title, "Cable, USB-C");
  EXPECT_EQ(r.listings[0].description, "a \"fast\" one");
  EXPECT_EQ(r.listings[0].price, 9.5);
  EXPECT_EQ(r.listings[1].description, "line one\r\nline two\nline three");
  EXPECT_FALSE(r.listings[1].price.has_value());
  EXPECT_EQ(r.listings[2].title, "Keyboard");
  // Line numbers count the physical lines of the multi-line record.
  EXPECT_THAT(r.errors, ElementsAre(err_prefix(file, 7) + "expected 4 fields, found 3"));
}

TEST(CsvReader, BomBlankLinesAndTrimming) {
  TestDir dir;
  auto file = dir.write("items.csv", "\xEF\xBB\xBFid,title\n\n 7 ,  Lamp  \n\n");
  ReadResult r = read_catalog(file);
  ASSERT_EQ(r.listings.size(), 1u);
  EXPECT_EQ(r.listings[0].id, "7");
  EXPECT_EQ(r.listings[0].title, "Lamp");
  EXPECT_TRUE(r.errors.empty());
}

TEST(CsvReader, AliasesAreCaseInsensitiveAndColumnMapOverrides) {
  TestDir dir;
  auto file = dir.write("items.csv",
                        "SKU,Name,Label,Cost,Manufacturer,ModelNo,Image_URL,Category\n"
                        "a1,ignored name,Desk Lamp,12.5,Acme,L-100,http://x/1.jpg,home\n");
  ReadOptions options;
  options.column_map = parse_column_map("id=sku,title=Label,price=Cost");
  ReadResult r = read_catalog(file, options);
  ASSERT_EQ(r.listings.size(), 1u) << (r.errors.empty() ? "" : r.errors[0]);
  const Listing& l = r.listings[0];
  EXPECT_EQ(l.id, "a1");
  EXPECT_EQ(l.title, "Desk Lamp");
  EXPECT_EQ(l.price, 12.5);
  EXPECT_EQ(l.brand, "Acme");
  EXPECT_EQ(l.model_number, "L-100");
  EXPECT_EQ(l.image, "http://x/1.jpg");
  EXPECT_EQ(l.category, "home");
  EXPECT_EQ(l.key, -1);
}

TEST(CsvReader, MissingIdColumnOrMappedColumnThrowsNamingFile) {
  TestDir dir;
  auto file = dir.write("noid.csv", "sku,title\n1,x\n");
  try {
    read_catalog(file);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(file.string()));
    EXPECT_THAT(e.what(), HasSubstr("no id column"));
  }
  ReadOptions options;
  options.column_map = {{"id", "sku"}, {"price", "cost"}};
  EXPECT_THROW(read_catalog(file, options), Error);
}

TEST(CsvReader, BadValuesAreLineErrorsAndOtherLinesParse) {
  TestDir dir;
  auto file = dir.write("items.csv",
                        "id,title,price\n"
                        "1,Lamp,\"$1,299.00\"\n"
                        "2,,5\n"
                        "3,Chair,cheap\n"
                        "4,Desk,\xE2\x82\xAC"
                        "20\n"
                        "5,Sofa,-\n");
  ReadResult r = read_catalog(file);
  ASSERT_EQ(r.listings.size(), 2u);
  EXPECT_EQ(r.listings[0].price, 1299.0);
  EXPECT_EQ(r.listings[1].price, 20.0);
  EXPECT_THAT(r.errors, ElementsAre(err_prefix(file, 3) + "missing or empty title",
                                    err_prefix(file, 4) + "field 'price' is not a number: 'cheap'",
                                    err_prefix(file, 6) + "field 'price' is not a number: '-'"));
}

TEST(CsvReader, UnterminatedQuoteIsReportedAndReadingResumes) {
  TestDir dir;
  auto file = dir.write("items.csv",
                        "id,title\n"
                        "1,Lamp\n"
                        "2,\"Desk\n"
                        "3,Chair\n");
  ReadResult r = read_catalog(file);
  ASSERT_EQ(r.listings.size(), 2u);
  EXPECT_EQ(r.listings[0].id, "1");
  EXPECT_EQ(r.listings[1].id, "3");
  EXPECT_THAT(r.errors, ElementsAre(err_prefix(file, 3) + "unterminated quoted field"));
}

TEST(CsvReader, TextAfterClosingQuoteIsALineError) {
  TestDir dir;
  auto file = dir.write("items.csv", "id,title\n1,\"Lamp\"x\n2,Desk\n");
  ReadResult r = read_catalog(file);
  ASSERT_EQ(r.listings.size(), 1u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0], StartsWith(err_prefix(file, 2) + "unexpected character 'x'"));
}

TEST(CsvReader, LaterDuplicateIdReplacesFieldsInFirstSeenPlace) {
  TestDir dir;
  auto file = dir.write("items.csv", "id,title\na,Old\nb,Other\na,New\n");
  ReadResult r = read_catalog(file);
  ASSERT_EQ(r.listings.size(), 2u);
  EXPECT_EQ(r.listings[0].id, "a");
  EXPECT_EQ(r.listings[0].title, "New");
  EXPECT_EQ(r.listings[1].id, "b");
  EXPECT_EQ(r.records_read, 3u);
}

TEST(Encoding, Latin1IsConvertedAndInvalidUtf8IsReportedWithLine) {
  TestDir dir;
  auto file = dir.write("items.csv", "id,title\n1,Caf\xE9 cr\xE8me\n2,ok\n");
  ReadResult bad = read_catalog(file);
  ASSERT_EQ(bad.listings.size(), 1u);
  EXPECT_THAT(bad.errors,
              ElementsAre(err_prefix(file, 2) +
                          "field 'title' is not valid UTF-8 at byte 3 (use --encoding latin1?)"));

  ReadOptions options;
  options.encoding = "latin1";
  ReadResult good = read_catalog(file, options);
  ASSERT_EQ(good.listings.size(), 2u);
  EXPECT_EQ(good.listings[0].title, "Caf\xC3\xA9 cr\xC3\xA8me");
  EXPECT_TRUE(good.errors.empty());

  options.encoding = "cp1252";
  EXPECT_THROW(read_catalog(file, options), Error);
}

TEST(JsonLinesReader, ParsesObjectsAndReportsBadLines) {
  TestDir dir;
  auto file = dir.write("items.jsonl",
                        "{\"id\": 1, \"name\": \"Lamp\", \"price\": 12.5, \"Brand\": \"Acme\"}\n"
                        "\n"
                        "{\"id\": \"b\", \"title\": \"Desk\", \"price\": \"$30\", \"x\": [1]}\n"
                        "{\"id\": 3, \"title\": \"Chair\"\n"
                        "{\"id\": 4, \"title\": 42}\n"
                        "[1, 2]\n"
                        "{\"id\": 6, \"title\": \"Sofa\", \"price\": true}\n"
                        "{\"title\": \"No id\"}\n"
                        "{\"id\": 8, \"title\": \"Bed\", \"description\": null}\n");
  ReadResult r = read_catalog(file);
  ASSERT_EQ(r.listings.size(), 3u);
  EXPECT_EQ(r.records_read, 3u);
  EXPECT_EQ(r.listings[0].id, "1");
  EXPECT_EQ(r.listings[0].title, "Lamp");
  EXPECT_EQ(r.listings[0].brand, "Acme");
  EXPECT_EQ(r.listings[0].price, 12.5);
  EXPECT_EQ(r.listings[1].id, "b");
  EXPECT_EQ(r.listings[1].price, 30.0);
  EXPECT_EQ(r.listings[2].id, "8");
  ASSERT_EQ(r.errors.size(), 5u);
  EXPECT_THAT(r.errors[0], StartsWith(err_prefix(file, 4) + "not valid JSON"));
  EXPECT_EQ(r.errors[1], err_prefix(file, 5) + "field 'title' must be a string, found number");
  EXPECT_EQ(r.errors[2], err_prefix(file, 6) + "expected a JSON object, found array");
  EXPECT_EQ(r.errors[3],
            err_prefix(file, 7) + "field 'price' must be a number or a string, found boolean");
  EXPECT_EQ(r.errors[4], err_prefix(file, 8) + "no id field");
}

TEST(JsonLinesReader, InvalidUtf8LineIsReported) {
  TestDir dir;
  auto file =
      dir.write("items.jsonl", "{\"id\":1,\"title\":\"Caf\xE9\"}\n{\"id\":2,\"title\":\"ok\"}\n");
  ReadResult r = read_catalog(file);
  ASSERT_EQ(r.listings.size(), 1u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0], StartsWith(err_prefix(file, 1) + "not valid UTF-8 at byte 20"));
}

constexpr const char* kDittoTrain =
    "COL name VAL Sony Camera X1 COL description VAL compact  COL price VAL 99.5 \t"
    "COL name VAL Sony X1 camera COL colour VAL black COL price VAL \t1\n"
    "COL name VAL Lamp COL brand VAL  COL price VAL 5\tCOL name VAL Desk\t0\n"
    "COL name VAL only two parts\t1\n"
    "COL name VAL a\tCOL name VAL b\tyes\n"
    "COL name VAL a\tCOL price VAL 3\t0\n";

TEST(DittoReader, ParsesPairsAndReportsBadLines) {
  TestDir dir;
  auto file = dir.write("train.txt", kDittoTrain);
  ReadResult r = read_catalog(file);
  ASSERT_EQ(r.labels.size(), 2u);
  EXPECT_EQ(r.records_read, 2u);
  ASSERT_EQ(r.listings.size(), 4u);
  const Listing& a = r.listings[0];
  EXPECT_EQ(a.title, "Sony Camera X1");
  EXPECT_EQ(a.description, "compact");
  EXPECT_EQ(a.price, 99.5);
  EXPECT_THAT(a.id, ::testing::MatchesRegex("h[0-9a-f]{16}"));
  const Listing& b = r.listings[1];
  EXPECT_EQ(b.description, "colour: black");
  EXPECT_FALSE(b.price.has_value());
  const Listing& lamp = r.listings[2];  // an empty value does not swallow the next attribute
  EXPECT_EQ(lamp.brand, "");
  EXPECT_EQ(lamp.price, 5.0);
  EXPECT_EQ(lamp.description, "");
  EXPECT_EQ(r.labels[0].id_a, a.id);
  EXPECT_EQ(r.labels[0].id_b, b.id);
  EXPECT_TRUE(r.labels[0].match);
  EXPECT_EQ(r.labels[0].split, "train");
  EXPECT_FALSE(r.labels[1].match);
  ASSERT_EQ(r.errors.size(), 3u);
  EXPECT_THAT(r.errors[0], StartsWith(err_prefix(file, 3) + "expected 3 tab-separated parts"));
  EXPECT_EQ(r.errors[1], err_prefix(file, 4) + "label must be 0 or 1, found 'yes'");
  EXPECT_EQ(r.errors[2], err_prefix(file, 5) + "right record: no 'title' or 'name' attribute");
}

TEST(DittoReader, HashIdsAreStableAcrossFilesAndWhitespace) {
  TestDir dir;
  auto train = dir.write("train.txt", "COL name VAL Lamp  COL price VAL 5\tCOL name VAL Desk\t0\n");
  auto test = dir.write("test.txt", "COL name VAL Desk\tCOL name VAL Lamp COL price VAL 5 \t1\n");
  ReadResult a = read_catalog(train);
  ReadResult b = read_catalog(test);
  ASSERT_EQ(a.labels.size(), 1u);
  ASSERT_EQ(b.labels.size(), 1u);
  EXPECT_EQ(a.labels[0].id_a, b.labels[0].id_b);
  EXPECT_EQ(a.labels[0].id_b, b.labels[0].id_a);
  EXPECT_NE(a.labels[0].id_a, a.labels[0].id_b);
  EXPECT_EQ(b.labels[0].split, "test");
  ReadOptions options;
  options.split = "valid";
  EXPECT_EQ(read_catalog(test, options).labels[0].split, "valid");
}

// A DeepMatcher folder with two tables and pair files, one naming an unknown id.
fs::path write_deepmatcher(const TestDir& dir) {
  dir.write("dm/tableA.csv", "id,name,price\n0,Lamp,5\n1,Desk,\n");
  dir.write("dm/tableB.csv", "id,title,manufacturer\n0,Lamp L,Acme\n1,Desk D,\n");
  dir.write("dm/train.csv", "ltable_id,rtable_id,label\n0,0,1\n1,7,0\n1,1,1\n");
  dir.write("dm/test.csv", "ltable_id,rtable_id,label\n0,1,0\n");
  return dir.path() / "dm";
}

TEST(DeepMatcherReader, ReadsFolderAndReportsUnknownIds) {
  TestDir dir;
  fs::path folder = write_deepmatcher(dir);
  ReadResult r = read_catalog(folder);
  ASSERT_EQ(r.listings.size(), 4u);
  EXPECT_EQ(r.listings[0].id, "A:0");
  EXPECT_EQ(r.listings[2].id, "B:0");
  EXPECT_EQ(r.listings[2].brand, "Acme");
  ASSERT_EQ(r.labels.size(), 3u);
  EXPECT_EQ(r.labels[0].id_a, "A:0");
  EXPECT_EQ(r.labels[0].id_b, "B:0");
  EXPECT_EQ(r.labels[0].split, "train");
  EXPECT_EQ(r.labels[2].split, "test");
  EXPECT_THAT(r.errors,
              ElementsAre(err_prefix(folder / "train.csv", 3) + "id '7' is not in tableB.csv"));
}

TEST(DeepMatcherReader, PairFileReadsTablesBesideIt) {
  TestDir dir;
  fs::path folder = write_deepmatcher(dir);
  ReadResult r = read_catalog(folder / "test.csv");  // auto-detected from its header
  EXPECT_EQ(r.listings.size(), 4u);
  ASSERT_EQ(r.labels.size(), 1u);
  EXPECT_EQ(r.labels[0].split, "test");
  EXPECT_TRUE(r.errors.empty());
}

TEST(PairsReader, ReadsSplitsAndChecksIdsAgainstTheCatalog) {
  TestDir dir;
  auto file = dir.write("labels.csv",
                        "id_a,id_b,label,split\nL1,L2,1,train\nL1,L3,0,test\nL1,ZZ,1,train\n"
                        "L2,L3,2,train\nL2,L3,1,holdout\nL2,L3,1,\n");
  ReadOptions options;
  options.known_id = [](const std::string& id) { return id == "L1" || id == "L2" || id == "L3"; };
  ReadResult r = read_catalog(file, options);  // auto-detected from its header
  ASSERT_EQ(r.labels.size(), 3u);
  EXPECT_TRUE(r.labels[0].match);
  EXPECT_EQ(r.labels[0].split, "train");
  EXPECT_FALSE(r.labels[1].match);
  EXPECT_EQ(r.labels[1].split, "test");
  EXPECT_EQ(r.labels[2].split, "");  // no split in the row, none in the file name
  EXPECT_THAT(r.errors, ElementsAre(err_prefix(file, 4) + "id 'ZZ' is not in the catalog",
                                    err_prefix(file, 5) + "label must be 0 or 1, found '2'",
                                    err_prefix(file, 6) +
                                        "split must be train, valid or test, found 'holdout'"));
  options.split = "valid";  // an explicit split overrides the column
  EXPECT_EQ(read_catalog(file, options).labels[1].split, "valid");
  options.split = "other-catalog";  // and may be any name (`eval --split other-catalog`)
  r = read_catalog(file, options);
  EXPECT_EQ(r.labels.size(), 4u);  // the row that named 'holdout' too
  EXPECT_EQ(r.labels[1].split, "other-catalog");
}

TEST(AutoFormat, DetectsFromNameAndContent) {
  TestDir dir;
  auto ditto = dir.write("pairs.txt.small", "COL title VAL a\tCOL title VAL b\t1\n");
  EXPECT_EQ(read_catalog(ditto).labels.size(), 1u);
  auto json = dir.write("x.ndjson", "{\"id\":1,\"title\":\"a\"}\n");
  EXPECT_EQ(read_catalog(json).listings.size(), 1u);
  auto unknown = dir.write("x.dat", "hello\n");
  EXPECT_THROW(read_catalog(unknown), Error);
  EXPECT_THROW(read_catalog(dir.path() / "missing.csv"), Error);
  EXPECT_THROW(read_catalog(dir.path()), Error);  // a folder without tableA.csv

  EXPECT_EQ(sniff_catalog_format(dir.write("test.txt", "\nCOL title VAL a\tCOL title VAL b\t0\n")),
            CatalogFormat::kDitto);
  EXPECT_EQ(sniff_catalog_format(dir.write("titles.txt", "Sony A1\nSony B2\n")), std::nullopt);
  EXPECT_EQ(sniff_catalog_format(dir.write("items.csv", "id,title\n1,a\n")), CatalogFormat::kCsv);
  EXPECT_THROW(sniff_catalog_format(dir.path() / "missing.txt"), Error);
}

// Real benchmark data (tests run from the repository root).
const fs::path kData = "../shared/data";

TEST(RealData, DittoAbtBuyTest) {
  fs::path file = kData / "ditto-er_magellan/Textual/Abt-Buy/test.txt";
  if (!fs::exists(file)) GTEST_SKIP() << file << " not present";
  ReadResult r = read_catalog(file);
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  // The file has 1916 lines, each a valid pair (206 matches).
  EXPECT_EQ(r.labels.size(), 1916u);
  std::set<bool> classes;
  for (const auto& p : r.labels) classes.insert(p.match);
  EXPECT_EQ(classes.size(), 2u);
  EXPECT_EQ(r.labels[0].split, "test");
  EXPECT_GT(r.listings.size(), 1000u);
}

TEST(RealData, DeepMatcherAbtBuyFolder) {
  fs::path folder = kData / "deepmatcher-tables/abt-buy";
  if (!fs::exists(folder)) GTEST_SKIP() << folder << " not present";
  ReadResult r = read_catalog(folder);
  EXPECT_TRUE(r.errors.empty()) << r.errors.front();
  EXPECT_GT(r.listings.size(), 2000u);
  std::set<std::string> splits;
  for (const auto& p : r.labels) splits.insert(p.split);
  EXPECT_EQ(splits, (std::set<std::string>{"test", "train", "valid"}));
}

}  // namespace
}  // namespace doppel
