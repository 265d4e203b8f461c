// WordPiece tokenizer for the BERT text encoder, compatible with Hugging Face's (slow, Python)
// BertTokenizer: a bert-base-uncased vocab.txt gives the ids that transformers gives, so a
// checkpoint trained elsewhere loads in doppel and a doppel model loads in transformers.
//
// Two stages, as in HF:
// - basic tokenisation: drop NUL, U+FFFD and control characters (Unicode C* except \t \n \r),
//   whitespace -> space, spaces around CJK ideographs, NFC, split on whitespace; per word:
//   lowercase (lower_case) and strip accents (NFD, drop Mn); then every punctuation character
//   (ASCII !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~ and Unicode P*) becomes a token of its own.
//   The special tokens [PAD] [UNK] [CLS] [SEP] [MASK] written in a text are kept whole
//   (case-sensitive, wherever they occur, as HF's added-token split does).
// - WordPiece: greedy longest-match-first over the vocabulary, continuation pieces prefixed
//   "##"; a word longer than max_chars_per_word code points, or one that cannot be segmented,
//   becomes a single [UNK].
// Invalid UTF-8 bytes are treated as U+FFFD (dropped). docs/tokenizer.md has the details, the
// known differences from HF's fast (Rust) tokenizer, and the measured speed.
//
// Thread safety: every const method may be called from many threads at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace doppel {

struct WordPieceOptions {
  bool lower_case = true;             // HF do_lower_case
  std::optional<bool> strip_accents;  // HF strip_accents; unset: follows lower_case (as in HF)
  bool split_cjk = true;              // HF tokenize_chinese_chars
  int max_chars_per_word = 100;       // HF max_input_chars_per_word (code points)

  bool strips_accents() const { return strip_accents.value_or(lower_case); }
  void validate() const;  // Error naming the field and value
};

// Token <-> id of a BERT vocab.txt: one token per line, id = line number (from 0).
class Vocabulary {
 public:
  // Error when `tokens` has no [UNK]; a token containing '\n' is a programming error.
  // Duplicates are allowed, as HF allows them: find() returns the later id (HF's dict keeps the
  // last assignment), token(id) still returns the string at id.
  explicit Vocabulary(std::vector<std::string> tokens);

  // Reads a vocab.txt the way HF's load_vocab does (each line is a token, the final newline ends
  // the last token rather than starting an empty one; empty lines are kept as tokens that match
  // nothing, so that later ids stay right). Error naming the file on a missing file, no [UNK],
  // and naming file:line on a line that is not valid UTF-8 or that ends in '\r' (CRLF endings:
  // HF would keep the '\r' inside every token and silently never match).
  static Vocabulary load(const std::filesystem::path& vocab_txt);
  // Writes one token per line, each followed by '\n', atomically.
  void save(const std::filesystem::path& vocab_txt) const;

  int size() const { return static_cast<int>(tokens_.size()); }
  std::optional<int32_t> find(std::string_view token) const;
  // The id of "##" + suffix, without building that string (WordPiece's inner loop).
  std::optional<int32_t> find_continuation(std::string_view suffix) const;
  const std::string& token(int32_t id) const;  // DOPPEL_CHECK on an id outside [0, size)
  const std::vector<std::string>& tokens() const { return tokens_; }

  int32_t unk_id() const { return unk_id_; }
  // [PAD] [CLS] [SEP] [MASK]: a vocabulary may lack them (a pure tokenizer needs only [UNK]);
  // asking for an absent one throws doppel::Error naming the token. Use find() to test.
  int32_t pad_id() const;
  int32_t cls_id() const;
  int32_t sep_id() const;
  int32_t mask_id() const;

 private:
  // Open-addressing table of ids, keyed by token string (minus `skip` leading bytes): the keys
  // live in tokens_, so copies of the vocabulary stay valid without rebuilding.
  struct IdTable {
    std::vector<int32_t> slots;  // -1 = empty; size is a power of two
    size_t skip = 0;
  };
  void insert(IdTable& table, int32_t id);
  std::optional<int32_t> lookup(const IdTable& table, std::string_view key) const;
  int32_t required_id(std::string_view token) const;

  std::vector<std::string> tokens_;
  IdTable whole_;         // every token
  IdTable continuation_;  // tokens starting with "##", keyed without the prefix
  int32_t unk_id_ = -1;
};

// Ids of encode(text) with the word each one came from: word_ids[i] is the index of the basic
// token (word or punctuation mark) that piece i belongs to, so pieces of one word share an index
// (whole-word masking).
struct Encoding {
  std::vector<int32_t> ids;
  std::vector<int32_t> word_ids;
};

class WordPieceTokenizer {
 public:
  explicit WordPieceTokenizer(Vocabulary vocab, WordPieceOptions options = {});

  std::vector<std::string> basic_tokens(std::string_view text) const;  // HF BasicTokenizer output
  std::vector<std::string> tokenize(std::string_view text) const;      // pieces as strings
  std::vector<int32_t> encode(std::string_view text) const;            // ids, no specials added
  Encoding encode_with_words(std::string_view text) const;
  // [CLS] ids [SEP], the pieces truncated so that the result has at most max_len ids (>= 2).
  std::vector<int32_t> encode_for_model(std::string_view text, int max_len) const;

  const Vocabulary& vocab() const { return vocab_; }
  const WordPieceOptions& options() const { return options_; }

 private:
  // Appends the pieces of one basic token (not a special token) to `ids`.
  void append_word_ids(std::string_view word, std::vector<int32_t>& ids) const;

  Vocabulary vocab_;
  WordPieceOptions options_;
};

// The basic tokens of `text` (BasicTokenizer alone, no vocabulary needed: vocabulary training
// pre-tokenises with it).
std::vector<std::string> basic_tokenize(std::string_view text, const WordPieceOptions& options);

// Whether the basic tokeniser always makes the code point `cp` a token of its own (punctuation,
// and CJK ideographs when split_cjk), so that it can never continue a word.
bool is_standalone_char(char32_t cp, const WordPieceOptions& options);

// Tokenizer options travel with the model as dir/tokenizer_config.json, with HF's field names
// (tokenizer_class "BertTokenizer", do_lower_case, strip_accents (null = unset),
// tokenize_chinese_chars, max_input_chars_per_word, the special tokens), so transformers'
// AutoTokenizer reads the folder too. load: a missing file gives HF's defaults (a checkpoint
// without one is an uncased BERT); missing fields keep their defaults; Error naming the file and
// field on bad JSON or a field of the wrong type.
void save_tokenizer_config(const std::filesystem::path& dir, const WordPieceOptions& options);
WordPieceOptions load_tokenizer_config(const std::filesystem::path& dir);

}  // namespace doppel
