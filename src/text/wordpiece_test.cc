#include "text/wordpiece.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "util/error.h"
#include "util/expect_error.h"
#include "util/files.h"

namespace doppel {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::filesystem::path temp_path(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / "doppel_wordpiece_test";
  std::filesystem::create_directories(dir);
  return dir / name;
}

// The vocabulary of HF's BertTokenizationTest.
Vocabulary hf_vocab() {
  return Vocabulary({"[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]", "want", "##want", "##ed", "wa",
                     "un", "runn", "##ing", ",", "low", "lowest"});
}

WordPieceOptions options(bool lower, std::optional<bool> strip = std::nullopt) {
  WordPieceOptions o;
  o.lower_case = lower;
  o.strip_accents = strip;
  return o;
}

// --- basic tokenisation (HF's BasicTokenizer tests, then doppel's own cases) ---

TEST(BasicTokenize, LowerCaseSplitsWhitespaceAndPunctuation) {
  EXPECT_THAT(basic_tokenize(" \tHeLLo!how  \n Are yoU?  ", {}),
              ElementsAre("hello", "!", "how", "are", "you", "?"));
  EXPECT_THAT(basic_tokenize("H\u00E9llo", {}), ElementsAre("hello"));
  EXPECT_THAT(basic_tokenize("", {}), IsEmpty());
  EXPECT_THAT(basic_tokenize(" \t\n ", {}), IsEmpty());
}

TEST(BasicTokenize, AccentsFollowLowerCaseUnlessSet) {
  const std::string text = " \tH\u00E4LLo!how  \n Are yoU?  ";
  EXPECT_THAT(basic_tokenize(text, options(true, false)),
              ElementsAre("h\u00E4llo", "!", "how", "are", "you", "?"));
  EXPECT_THAT(basic_tokenize("H\u00E9llo", options(true, false)), ElementsAre("h\u00E9llo"));
  EXPECT_THAT(basic_tokenize(text, options(true, true)),
              ElementsAre("hallo", "!", "how", "are", "you", "?"));
  EXPECT_THAT(basic_tokenize(text, options(false)),
              ElementsAre("H\u00E4LLo", "!", "how", "Are", "yoU", "?"));
  EXPECT_THAT(basic_tokenize(text, options(false, true)),
              ElementsAre("HaLLo", "!", "how", "Are", "yoU", "?"));
}

TEST(BasicTokenize, CjkIdeographsAreTokensOfTheirOwn) {
  EXPECT_THAT(basic_tokenize("ah\u535A\u63A8zz", {}), ElementsAre("ah", "\u535A", "\u63A8", "zz"));
  WordPieceOptions keep = {};
  keep.split_cjk = false;
  EXPECT_THAT(basic_tokenize("ah\u535A\u63A8zz", keep), ElementsAre("ah\u535A\u63A8zz"));
  // Kana is not in HF's CJK ranges: it stays inside the word.
  EXPECT_THAT(basic_tokenize("\u30AB\u30E1\u30E9", {}), ElementsAre("\u30AB\u30E1\u30E9"));
}

TEST(BasicTokenize, ControlCharactersAreDroppedNotSpaces) {
  // NUL, U+FFFD, C0 controls (\v \f included), soft hyphen and zero-width space (Cf): removed,
  // so the letters around them join, as in HF.
  EXPECT_THAT(basic_tokenize(std::string("a\0b\x01"
                                         "c\v\fd",
                                         8),
                             {}),
              ElementsAre("abcd"));
  EXPECT_THAT(basic_tokenize("sm\u00ADart\u200Bphone \uFFFDx", {}), ElementsAre("smartphone", "x"));
  EXPECT_THAT(basic_tokenize("\u00AD", {}), IsEmpty());
  // Invalid UTF-8 is read as U+FFFD and so dropped.
  EXPECT_THAT(basic_tokenize("ab\xFF"
                             "cd \xC3",
                             {}),
              ElementsAre("abcd"));
  // Unicode spaces split: no-break space (Zs), ideographic space, line separator.
  EXPECT_THAT(basic_tokenize("a\u00A0b\u3000c\u2028d", {}), ElementsAre("a", "b", "c", "d"));
}

TEST(BasicTokenize, PunctuationIsAsciiSymbolsAndUnicodeP) {
  EXPECT_THAT(basic_tokenize("KDL-46V5100 $99+tax a|b", {}),
              ElementsAre("kdl", "-", "46v5100", "$", "99", "+", "tax", "a", "|", "b"));
  // Unicode P* splits (en dash, guillemets); non-ASCII symbols S* do not (®, €, °).
  EXPECT_THAT(basic_tokenize("1\u20132 \u00ABx\u00BB Sony\u00AE 5\u20AC 90\u00B0", {}),
              ElementsAre("1", "\u2013", "2", "\u00AB", "x", "\u00BB", "sony\u00AE", "5\u20AC",
                          "90\u00B0"));
}

TEST(BasicTokenize, SpecialTokensStayWhole) {
  EXPECT_THAT(basic_tokenize("Hello[SEP]World [MASK]!", {}),
              ElementsAre("hello", "[SEP]", "world", "[MASK]", "!"));
  // Case-sensitive, as HF: "[sep]" is plain text.
  EXPECT_THAT(basic_tokenize("[sep] [SEP", {}), ElementsAre("[", "sep", "]", "[", "sep"));
}

TEST(BasicTokenize, PythonLowerCaseAndUnicodeNormalisation) {
  // Final sigma, as Python's str.lower(); no accents on these Greek letters.
  EXPECT_THAT(basic_tokenize("\u039F\u0394\u039F\u03A3 \u03A3\u0391", {}),
              ElementsAre("\u03BF\u03B4\u03BF\u03C2", "\u03C3\u03B1"));
  // Dotted capital I lowers to i + combining dot; stripping accents removes the dot.
  EXPECT_THAT(basic_tokenize("\u0130stanbul", options(true, false)), ElementsAre("i\u0307stanbul"));
  EXPECT_THAT(basic_tokenize("\u0130stanbul", {}), ElementsAre("istanbul"));
  // NFC first: a decomposed é in a cased model is the precomposed one.
  EXPECT_THAT(basic_tokenize("Caf"
                             "e\u0301",
                             options(false)),
              ElementsAre("Caf\u00E9"));
  // Stripping accents decomposes Hangul syllables into jamo, as HF does.
  EXPECT_THAT(basic_tokenize("\uD55C", {}), ElementsAre("\u1112\u1161\u11AB"));
}

// --- vocabulary ---

TEST(Vocabulary, FindsTokensAndSpecials) {
  const Vocabulary v = hf_vocab();
  EXPECT_EQ(v.size(), 15);
  EXPECT_EQ(v.find("want"), 5);
  EXPECT_EQ(v.find("##want"), 6);
  EXPECT_EQ(v.find_continuation("want"), 6);
  EXPECT_EQ(v.find_continuation("runn"), std::nullopt);
  EXPECT_EQ(v.find("nope"), std::nullopt);
  EXPECT_EQ(v.token(10), "runn");
  EXPECT_EQ(v.unk_id(), 0);
  EXPECT_EQ(v.cls_id(), 1);
  EXPECT_EQ(v.sep_id(), 2);
  EXPECT_EQ(v.pad_id(), 3);
  EXPECT_EQ(v.mask_id(), 4);
}

TEST(Vocabulary, AbsentSpecialsThrowWhenAskedFor) {
  const Vocabulary v({"a", "[UNK]"});
  EXPECT_EQ(v.unk_id(), 1);
  EXPECT_THROW(v.cls_id(), Error);
  EXPECT_THROW(v.mask_id(), Error);
  EXPECT_THROW(Vocabulary({"a", "b"}), Error);
}

TEST(Vocabulary, DuplicatesLaterIdWinsAsInHf) {
  const Vocabulary v({"[UNK]", "a", "##b", "a", "##b"});
  EXPECT_EQ(v.find("a"), 3);
  EXPECT_EQ(v.find_continuation("b"), 4);
  EXPECT_EQ(v.token(1), "a");
}

TEST(Vocabulary, SaveLoadRoundTrip) {
  const auto path = temp_path("vocab.txt");
  hf_vocab().save(path);
  EXPECT_EQ(read_file(path).substr(0, 24), "[UNK]\n[CLS]\n[SEP]\n[PAD]\n");
  const Vocabulary loaded = Vocabulary::load(path);
  EXPECT_EQ(loaded.tokens(), hf_vocab().tokens());
  EXPECT_EQ(loaded.find("##ing"), 11);
}

TEST(Vocabulary, LoadReadsLinesLikeHf) {
  const auto path = temp_path("lines.txt");
  write_file_atomic(path, "[UNK]\n\nfoo\nbar");  // empty line keeps its id; no final newline
  const Vocabulary v = Vocabulary::load(path);
  EXPECT_EQ(v.size(), 4);
  EXPECT_EQ(v.find("foo"), 2);
  EXPECT_EQ(v.find("bar"), 3);
}

TEST(Vocabulary, LoadErrorsNameTheFile) {
  const auto load = [](const std::filesystem::path& p) { Vocabulary::load(p); };
  try {
    Vocabulary::load(temp_path("missing.txt"));
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("missing.txt"));
  }
  expect_load_error(temp_path("no_unk.txt"), "a\nb\n", load, "no [UNK]");
  expect_load_error(temp_path("empty.txt"), "", load, "no [UNK]");
  expect_load_error(temp_path("crlf.txt"), "[UNK]\r\na\r\n", load,
                    "crlf.txt:1: line ends in a carriage return");
  expect_load_error(temp_path("bad_utf8.txt"), "[UNK]\na\nb\xC3\n", load,
                    "bad_utf8.txt:3: not valid UTF-8");
}

// --- WordPiece ---

TEST(WordPieceTokenizer, HfFullTokenizerCase) {
  const WordPieceTokenizer t(hf_vocab());
  EXPECT_THAT(t.tokenize("UNwant\u00E9d,running"),
              ElementsAre("un", "##want", "##ed", ",", "runn", "##ing"));
  EXPECT_THAT(t.encode("UNwant\u00E9d,running"), ElementsAre(9, 6, 7, 12, 10, 11));
  EXPECT_THAT(t.tokenize(""), IsEmpty());
  EXPECT_THAT(t.basic_tokens("UNwant\u00E9d,running"), ElementsAre("unwanted", ",", "running"));
}

TEST(WordPieceTokenizer, UnsegmentableOrTooLongWordIsOneUnk) {
  const WordPieceTokenizer t(hf_vocab());
  // "X" has no piece: the whole word, not just the tail, becomes [UNK].
  EXPECT_THAT(t.tokenize("unwantedX running"), ElementsAre("[UNK]", "runn", "##ing"));
  EXPECT_THAT(t.encode("wants"), ElementsAre(0));

  const Vocabulary ab({"[UNK]", "a", "##a", "\u00E9", "##\u00E9"});
  const WordPieceTokenizer t2(ab, options(true, false));
  EXPECT_EQ(t2.encode(std::string(100, 'a')).size(), 100u);
  EXPECT_THAT(t2.encode(std::string(101, 'a')), ElementsAre(0));
  // The limit counts code points, not bytes: 100 two-byte é are still one word of 100.
  std::string accents;
  for (int i = 0; i < 100; ++i) accents += "\u00E9";
  const std::vector<int32_t> ids = t2.encode(accents);
  ASSERT_EQ(ids.size(), 100u);
  EXPECT_EQ(ids[0], 3);
  EXPECT_EQ(ids[99], 4);
  EXPECT_THAT(t2.tokenize(accents + "\u00E9"), ElementsAre("[UNK]"));
  WordPieceOptions short_words;
  short_words.max_chars_per_word = 3;
  EXPECT_THAT(WordPieceTokenizer(ab, short_words).encode("aaa aaaa"), ElementsAre(1, 2, 2, 0));
}

TEST(WordPieceTokenizer, CaseKeptWhenNotLowerCasing) {
  const Vocabulary v({"[UNK]", "Sony", "sony", "##TV", "##tv"});
  EXPECT_THAT(WordPieceTokenizer(v, options(false)).tokenize("SonyTV sonytv"),
              ElementsAre("Sony", "##TV", "sony", "##tv"));
  EXPECT_THAT(WordPieceTokenizer(v).tokenize("SonyTV"), ElementsAre("sony", "##tv"));
}

TEST(WordPieceTokenizer, SpecialTokensInTextMapToTheirIds) {
  const WordPieceTokenizer t(hf_vocab());
  EXPECT_THAT(t.encode("want[MASK]running"), ElementsAre(5, 4, 10, 11));
  // A special the vocabulary lacks is kept as a token and encoded as [UNK], as in HF.
  const WordPieceTokenizer bare(Vocabulary({"[UNK]", "want"}));
  EXPECT_THAT(bare.tokenize("want [CLS]"), ElementsAre("want", "[CLS]"));
  EXPECT_THAT(bare.encode("want [CLS]"), ElementsAre(1, 0));
}

TEST(WordPieceTokenizer, WordIdsGroupThePiecesOfAWord) {
  const WordPieceTokenizer t(hf_vocab());
  const Encoding e = t.encode_with_words("unwanted, running wants lowest");
  EXPECT_THAT(e.ids, ElementsAre(9, 6, 7, 12, 10, 11, 0, 14));
  EXPECT_THAT(e.word_ids, ElementsAre(0, 0, 0, 1, 2, 2, 3, 4));
}

TEST(WordPieceTokenizer, EncodeForModelTruncatesInsideClsAndSep) {
  const WordPieceTokenizer t(hf_vocab());
  EXPECT_THAT(t.encode_for_model("unwanted running", 64), ElementsAre(1, 9, 6, 7, 10, 11, 2));
  EXPECT_THAT(t.encode_for_model("unwanted running", 7), ElementsAre(1, 9, 6, 7, 10, 11, 2));
  EXPECT_THAT(t.encode_for_model("unwanted running", 4), ElementsAre(1, 9, 6, 2));
  EXPECT_THAT(t.encode_for_model("unwanted running", 2), ElementsAre(1, 2));
  EXPECT_THAT(t.encode_for_model("", 8), ElementsAre(1, 2));
  EXPECT_THROW(t.encode_for_model("x", 1), Error);
  EXPECT_THROW(WordPieceTokenizer(Vocabulary({"[UNK]", "[SEP]"})).encode_for_model("x", 8), Error);
}

// --- options on disk ---

TEST(TokenizerConfig, RoundTripWithHfFieldNames) {
  const auto dir = temp_path("config_round_trip");
  std::filesystem::remove_all(dir);
  WordPieceOptions o = options(false, true);
  o.split_cjk = false;
  o.max_chars_per_word = 50;
  save_tokenizer_config(dir, o);
  const std::string json = read_file(dir / "tokenizer_config.json");
  EXPECT_THAT(json, ::testing::HasSubstr("\"do_lower_case\": false"));
  EXPECT_THAT(json, ::testing::HasSubstr("\"tokenizer_class\": \"BertTokenizer\""));
  const WordPieceOptions loaded = load_tokenizer_config(dir);
  EXPECT_FALSE(loaded.lower_case);
  EXPECT_EQ(loaded.strip_accents, std::optional<bool>(true));
  EXPECT_FALSE(loaded.split_cjk);
  EXPECT_EQ(loaded.max_chars_per_word, 50);

  save_tokenizer_config(dir, WordPieceOptions{});
  EXPECT_THAT(read_file(dir / "tokenizer_config.json"),
              ::testing::HasSubstr("\"strip_accents\": null"));
  EXPECT_EQ(load_tokenizer_config(dir).strip_accents, std::nullopt);
}

TEST(TokenizerConfig, MissingFileOrFieldsGiveHfDefaults) {
  const auto dir = temp_path("config_defaults");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const WordPieceOptions none = load_tokenizer_config(dir);
  EXPECT_TRUE(none.lower_case);
  EXPECT_TRUE(none.strips_accents());
  write_file_atomic(dir / "tokenizer_config.json",
                    R"({"do_lower_case": false, "model_max_length": 512})");
  const WordPieceOptions cased = load_tokenizer_config(dir);
  EXPECT_FALSE(cased.lower_case);
  EXPECT_FALSE(cased.strips_accents());
  EXPECT_TRUE(cased.split_cjk);
  EXPECT_EQ(cased.max_chars_per_word, 100);
}

TEST(TokenizerConfig, BadFileIsAnErrorNamingFileAndField) {
  const auto dir = temp_path("config_bad");
  std::filesystem::create_directories(dir);
  const auto load = [&](const std::filesystem::path&) { load_tokenizer_config(dir); };
  const auto file = dir / "tokenizer_config.json";
  expect_load_error(file, "{", load, "not valid JSON");
  expect_load_error(file, "[]", load, "expected a JSON object");
  expect_load_error(file, R"({"do_lower_case": "yes"})", load, "do_lower_case");
  expect_load_error(file, R"({"strip_accents": 1})", load, "strip_accents");
  expect_load_error(file, R"({"max_input_chars_per_word": 0})", load, "max_chars_per_word");
}

}  // namespace
}  // namespace doppel
