#include "text/wordpiece.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <bit>
#include <functional>
#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/files.h"

namespace doppel {
namespace {

constexpr std::string_view kUnk = "[UNK]";
// HF BertTokenizer's special tokens: kept whole when they appear in a text.
constexpr std::array<std::string_view, 5> kSpecialTokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]",
                                                            "[MASK]"};
constexpr std::string_view kContinuation = "##";
constexpr char32_t kReplacement = 0xFFFD;

bool is_utf8_continuation(char byte) { return (static_cast<unsigned char>(byte) & 0xC0) == 0x80; }

// The CJK ideograph blocks of HF's _is_chinese_char (not all of CJK: no kana, no hangul).
bool is_cjk(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

utf8proc_category_t category(char32_t cp) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

// HF _is_punctuation: the ASCII non-alphanumeric printables (symbols such as $ + < = > ^ ` | ~
// included) and Unicode P*. Non-ASCII symbols (S*: ® ™ € °) are not punctuation.
bool is_punct(char32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
      (cp >= 123 && cp <= 126)) {
    return true;
  }
  const auto cat = category(cp);
  return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

// HF _is_control: Unicode C* (control, format, unassigned, private use) except \t \n \r.
bool is_control(char32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  const auto cat = category(cp);
  return cat == UTF8PROC_CATEGORY_CN || cat >= UTF8PROC_CATEGORY_CC;
}

// What splits words after cleaning: HF's _is_whitespace (mapped to ' ') plus the separators that
// survive cleaning and Python's str.split() still splits on (U+2028, U+2029).
bool is_space(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029 ||
         category(cp) == UTF8PROC_CATEGORY_ZS;
}

enum class AsciiClass : uint8_t { kDrop, kSpace, kPunct, kWord };

constexpr std::array<AsciiClass, 128> make_ascii_classes() {
  std::array<AsciiClass, 128> classes{};
  for (int c = 0; c < 128; ++c) {
    if (c == '\t' || c == '\n' || c == '\r' || c == ' ') {
      classes[c] = AsciiClass::kSpace;
    } else if (c < 32 || c == 127) {
      classes[c] = AsciiClass::kDrop;  // NUL and the other C0 controls, DEL
    } else if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
               (c >= 123 && c <= 126)) {
      classes[c] = AsciiClass::kPunct;
    } else {
      classes[c] = AsciiClass::kWord;
    }
  }
  return classes;
}
constexpr std::array<AsciiClass, 128> kAsciiClasses = make_ascii_classes();

// Python's Final_Sigma condition, approximated with the properties utf8proc has: cased = a
// letter with case, case-ignorable = marks, format, modifiers and the word-internal
// apostrophes, periods and colons.
bool is_cased(char32_t cp) {
  const auto cat = category(cp);
  if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT) {
    return true;
  }
  const auto c = static_cast<utf8proc_int32_t>(cp);
  return utf8proc_tolower(c) != c || utf8proc_toupper(c) != c;
}

// Word_Break MidLetter, MidNumLet and Single_Quote: the word-internal ' . : and their kin.
constexpr std::array<char32_t, 17> kWordInternal = {0x27,   0x2E,   0x3A,   0xB7,   0x387,  0x55F,
                                                    0x5F4,  0x2018, 0x2019, 0x2024, 0x2027, 0xFE13,
                                                    0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A};

bool is_case_ignorable(char32_t cp) {
  if (std::ranges::find(kWordInternal, cp) != kWordInternal.end()) return true;
  const auto cat = category(cp);
  return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_ME ||
         cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_LM || cat == UTF8PROC_CATEGORY_SK;
}

bool is_final_sigma(const std::vector<char32_t>& cps, size_t i) {
  size_t j = i;
  while (j > 0 && is_case_ignorable(cps[j - 1])) --j;
  if (j == 0 || !is_cased(cps[j - 1])) return false;
  j = i + 1;
  while (j < cps.size() && is_case_ignorable(cps[j])) ++j;
  return j == cps.size() || !is_cased(cps[j]);
}

// Python's str.lower(): the simple lowercase mapping, except İ -> i + combining dot above and
// the context-dependent final sigma.
void lowercase(std::vector<char32_t>& cps, std::vector<char32_t>& out) {
  out.clear();
  for (size_t i = 0; i < cps.size(); ++i) {
    const char32_t cp = cps[i];
    if (cp == 0x130) {
      out.push_back('i');
      out.push_back(0x307);
    } else if (cp == 0x3A3) {
      out.push_back(is_final_sigma(cps, i) ? 0x3C2 : 0x3C3);
    } else {
      out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
    }
  }
  cps.swap(out);
}

void append_utf8(char32_t cp, std::string& out) {
  utf8proc_uint8_t bytes[4];
  const auto n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), bytes);
  out.append(reinterpret_cast<const char*>(bytes), static_cast<size_t>(n));
}

// Code points of valid UTF-8 `utf8` in NFC (compose) or NFD.
void normalize(std::string_view utf8, bool compose, std::vector<char32_t>& out) {
  static_assert(sizeof(char32_t) == sizeof(utf8proc_int32_t));
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
  out.resize(std::max<size_t>(utf8.size(), 8));
  for (;;) {
    const utf8proc_ssize_t n = utf8proc_decompose(
        reinterpret_cast<const utf8proc_uint8_t*>(utf8.data()),
        static_cast<utf8proc_ssize_t>(utf8.size()), reinterpret_cast<utf8proc_int32_t*>(out.data()),
        static_cast<utf8proc_ssize_t>(out.size()), options);
    DOPPEL_CHECK(n >= 0, "utf8proc_decompose: {}", utf8proc_errmsg(n));
    if (static_cast<size_t>(n) <= out.size()) {
      out.resize(static_cast<size_t>(n));
      break;
    }
    out.resize(static_cast<size_t>(n));
  }
  if (compose) {
    const utf8proc_ssize_t n = utf8proc_normalize_utf32(
        reinterpret_cast<utf8proc_int32_t*>(out.data()), static_cast<utf8proc_ssize_t>(out.size()),
        static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    DOPPEL_CHECK(n >= 0, "utf8proc_normalize_utf32: {}", utf8proc_errmsg(n));
    out.resize(static_cast<size_t>(n));
  }
}

// Basic tokens of one text, stored contiguously to spare one allocation per token.
struct BasicTokens {
  struct Span {
    uint32_t begin, end;
    bool special;
  };
  std::string chars;
  std::vector<Span> spans;

  std::string_view view(const Span& s) const {
    return std::string_view(chars).substr(s.begin, s.end - s.begin);
  }
};

// HF BasicTokenizer. Words made only of ASCII take a fast path (a table lookup per byte); a word
// with any other character goes through NFC, lowercasing and NFD with utf8proc.
class BasicTokenizer {
 public:
  BasicTokenizer(const WordPieceOptions& options, BasicTokens& out)
      : lower_(options.lower_case),
        strip_(options.strips_accents()),
        split_cjk_(options.split_cjk),
        out_(out) {}

  void run(std::string_view text) {
    out_.chars.clear();
    out_.spans.clear();
    size_t begin = 0;
    for (size_t at = text.find('['); at != std::string_view::npos; at = text.find('[', at + 1)) {
      const std::string_view rest = text.substr(at);
      for (std::string_view special : kSpecialTokens) {
        if (!rest.starts_with(special)) continue;
        split_words(text.substr(begin, at - begin));
        token_begin_ = out_.chars.size();
        out_.chars += special;
        end_token(true);
        begin = at + special.size();
        at = begin - 1;
        break;
      }
    }
    split_words(text.substr(begin));
  }

 private:
  // Cleans `text` and cuts it into whitespace-separated words (a CJK ideograph is a word).
  void split_words(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
      const auto byte = static_cast<unsigned char>(text[i]);
      if (byte < 0x80) {
        switch (kAsciiClasses[byte]) {
          case AsciiClass::kDrop:
            break;
          case AsciiClass::kSpace:
            end_word();
            break;
          default:
            word_ += static_cast<char>(byte);
        }
        ++i;
        continue;
      }
      utf8proc_int32_t decoded;
      const utf8proc_ssize_t len =
          utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + i),
                           static_cast<utf8proc_ssize_t>(text.size() - i), &decoded);
      const size_t begin = i;
      i += len > 0 ? static_cast<size_t>(len) : 1;
      const char32_t cp = len > 0 ? static_cast<char32_t>(decoded) : kReplacement;
      if (cp == kReplacement || is_control(cp)) continue;
      if (is_space(cp)) {
        end_word();
        continue;
      }
      const bool cjk = split_cjk_ && is_cjk(cp);
      if (cjk) end_word();
      word_.append(text.substr(begin, i - begin));
      word_ascii_ = false;
      if (cjk) end_word();
    }
    end_word();
  }

  void end_word() {
    if (word_ascii_) {
      ascii_word();
    } else {
      unicode_word();
    }
    word_.clear();
    word_ascii_ = true;
  }

  void ascii_word() {
    token_begin_ = out_.chars.size();
    for (char c : word_) {
      if (lower_ && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (kAsciiClasses[static_cast<unsigned char>(c)] == AsciiClass::kPunct) {
        end_token(false);
        out_.chars += c;
        end_token(false);
      } else {
        out_.chars += c;
      }
    }
    end_token(false);
  }

  // HF's order: NFC (of the whole text; per word is the same, spaces never compose), lower(),
  // NFD and drop nonspacing marks, split on punctuation.
  void unicode_word() {
    normalize(word_, /*compose=*/true, cps_);
    if (lower_) lowercase(cps_, scratch_);
    if (strip_) {
      std::string& utf8 = word_;  // reused: word_ is no longer needed
      utf8.clear();
      for (char32_t cp : cps_) append_utf8(cp, utf8);
      normalize(utf8, /*compose=*/false, cps_);
      std::erase_if(cps_, [](char32_t cp) { return category(cp) == UTF8PROC_CATEGORY_MN; });
    }
    token_begin_ = out_.chars.size();
    for (char32_t cp : cps_) {
      if (is_punct(cp)) {
        end_token(false);
        append_utf8(cp, out_.chars);
        end_token(false);
      } else {
        append_utf8(cp, out_.chars);
      }
    }
    end_token(false);
  }

  // Closes the token started at token_begin_ (if it has any bytes) and starts the next one.
  void end_token(bool special) {
    const size_t end = out_.chars.size();
    if (end > token_begin_) {
      out_.spans.push_back(
          {static_cast<uint32_t>(token_begin_), static_cast<uint32_t>(end), special});
    }
    token_begin_ = end;
  }

  const bool lower_, strip_, split_cjk_;
  BasicTokens& out_;
  std::string word_;  // the current whitespace-separated word, cleaned
  bool word_ascii_ = true;
  size_t token_begin_ = 0;
  std::vector<char32_t> cps_, scratch_;
};

size_t table_size(size_t n) { return std::bit_ceil(std::max<size_t>(2 * n, 16)); }

}  // namespace

void WordPieceOptions::validate() const {
  if (max_chars_per_word < 1) {
    fail("tokenizer options: max_chars_per_word must be at least 1, got {}", max_chars_per_word);
  }
}

Vocabulary::Vocabulary(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {
  whole_.slots.assign(table_size(tokens_.size()), -1);
  continuation_.slots.assign(table_size(tokens_.size()), -1);
  continuation_.skip = kContinuation.size();
  for (size_t id = 0; id < tokens_.size(); ++id) {
    const std::string& token = tokens_[id];
    DOPPEL_CHECK(token.find('\n') == std::string::npos, "token {} contains a newline", id);
    insert(whole_, static_cast<int32_t>(id));
    if (token.size() > kContinuation.size() && token.starts_with(kContinuation)) {
      insert(continuation_, static_cast<int32_t>(id));
    }
  }
  const auto unk = find(kUnk);
  if (!unk) fail("vocabulary has no {} token", kUnk);
  unk_id_ = *unk;
}

void Vocabulary::insert(IdTable& table, int32_t id) {
  const std::string_view key = std::string_view(tokens_[id]).substr(table.skip);
  const size_t mask = table.slots.size() - 1;
  for (size_t slot = std::hash<std::string_view>{}(key)&mask;; slot = (slot + 1) & mask) {
    int32_t& entry = table.slots[slot];
    // A duplicate token takes over the slot: the later id wins, as in HF's load_vocab.
    if (entry < 0 || std::string_view(tokens_[entry]).substr(table.skip) == key) {
      entry = id;
      return;
    }
  }
}

std::optional<int32_t> Vocabulary::lookup(const IdTable& table, std::string_view key) const {
  const size_t mask = table.slots.size() - 1;
  for (size_t slot = std::hash<std::string_view>{}(key)&mask;; slot = (slot + 1) & mask) {
    const int32_t entry = table.slots[slot];
    if (entry < 0) return std::nullopt;
    if (std::string_view(tokens_[entry]).substr(table.skip) == key) return entry;
  }
}

std::optional<int32_t> Vocabulary::find(std::string_view token) const {
  return lookup(whole_, token);
}

std::optional<int32_t> Vocabulary::find_continuation(std::string_view suffix) const {
  if (suffix.empty()) return std::nullopt;
  return lookup(continuation_, suffix);
}

const std::string& Vocabulary::token(int32_t id) const {
  DOPPEL_CHECK(id >= 0 && id < size(), "token id {} outside the vocabulary (size {})", id, size());
  return tokens_[static_cast<size_t>(id)];
}

int32_t Vocabulary::required_id(std::string_view token) const {
  const auto id = find(token);
  if (!id) fail("vocabulary has no {} token", token);
  return *id;
}

int32_t Vocabulary::pad_id() const { return required_id("[PAD]"); }
int32_t Vocabulary::cls_id() const { return required_id("[CLS]"); }
int32_t Vocabulary::sep_id() const { return required_id("[SEP]"); }
int32_t Vocabulary::mask_id() const { return required_id("[MASK]"); }

Vocabulary Vocabulary::load(const std::filesystem::path& vocab_txt) {
  const std::string bytes = read_file(vocab_txt);
  std::vector<std::string> tokens;
  size_t begin = 0;
  while (begin < bytes.size()) {
    size_t end = bytes.find('\n', begin);
    if (end == std::string::npos) end = bytes.size();
    const std::string_view line = std::string_view(bytes).substr(begin, end - begin);
    const size_t line_number = tokens.size() + 1;
    if (line.ends_with('\r')) {
      fail("{}:{}: line ends in a carriage return (CRLF line endings); vocab.txt needs LF",
           vocab_txt.string(), line_number);
    }
    for (size_t i = 0; i < line.size();) {
      utf8proc_int32_t cp;
      const utf8proc_ssize_t len =
          utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(line.data() + i),
                           static_cast<utf8proc_ssize_t>(line.size() - i), &cp);
      if (len <= 0) fail("{}:{}: not valid UTF-8", vocab_txt.string(), line_number);
      i += static_cast<size_t>(len);
    }
    tokens.emplace_back(line);
    begin = end + 1;
  }
  try {
    return Vocabulary(std::move(tokens));
  } catch (const Error& e) {
    fail("{}: {}", vocab_txt.string(), e.what());
  }
}

void Vocabulary::save(const std::filesystem::path& vocab_txt) const {
  std::string bytes;
  for (const std::string& token : tokens_) {
    bytes += token;
    bytes += '\n';
  }
  write_file_atomic(vocab_txt, bytes);
}

WordPieceTokenizer::WordPieceTokenizer(Vocabulary vocab, WordPieceOptions options)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
  options_.validate();
}

std::vector<std::string> basic_tokenize(std::string_view text, const WordPieceOptions& options) {
  BasicTokens tokens;
  BasicTokenizer(options, tokens).run(text);
  std::vector<std::string> out;
  out.reserve(tokens.spans.size());
  for (const auto& span : tokens.spans) out.emplace_back(tokens.view(span));
  return out;
}

bool is_standalone_char(char32_t cp, const WordPieceOptions& options) {
  return is_punct(cp) || (options.split_cjk && is_cjk(cp));
}

std::vector<std::string> WordPieceTokenizer::basic_tokens(std::string_view text) const {
  return basic_tokenize(text, options_);
}

void WordPieceTokenizer::append_word_ids(std::string_view word, std::vector<int32_t>& ids) const {
  const auto chars = std::count_if(word.begin(), word.end(),
                                   [](char byte) { return !is_utf8_continuation(byte); });
  if (chars > options_.max_chars_per_word) {
    ids.push_back(vocab_.unk_id());
    return;
  }
  const size_t first = ids.size();
  size_t start = 0;
  while (start < word.size()) {
    std::optional<int32_t> id;
    size_t end = word.size();
    for (;;) {
      const std::string_view piece = word.substr(start, end - start);
      id = start == 0 ? vocab_.find(piece) : vocab_.find_continuation(piece);
      if (id) break;
      do {
        --end;
      } while (end > start && is_utf8_continuation(word[end]));
      if (end == start) break;
    }
    if (!id) {  // no segmentation: the whole word is unknown
      ids.resize(first);
      ids.push_back(vocab_.unk_id());
      return;
    }
    ids.push_back(*id);
    start = end;
  }
}

Encoding WordPieceTokenizer::encode_with_words(std::string_view text) const {
  BasicTokens tokens;
  BasicTokenizer(options_, tokens).run(text);
  Encoding encoding;
  encoding.ids.reserve(tokens.spans.size() + tokens.spans.size() / 2);
  for (size_t word = 0; word < tokens.spans.size(); ++word) {
    const auto& span = tokens.spans[word];
    if (span.special) {
      encoding.ids.push_back(vocab_.find(tokens.view(span)).value_or(vocab_.unk_id()));
    } else {
      append_word_ids(tokens.view(span), encoding.ids);
    }
    encoding.word_ids.resize(encoding.ids.size(), static_cast<int32_t>(word));
  }
  return encoding;
}

std::vector<int32_t> WordPieceTokenizer::encode(std::string_view text) const {
  return encode_with_words(text).ids;
}

std::vector<std::string> WordPieceTokenizer::tokenize(std::string_view text) const {
  BasicTokens tokens;
  BasicTokenizer(options_, tokens).run(text);
  std::vector<std::string> pieces;
  std::vector<int32_t> ids;
  for (const auto& span : tokens.spans) {
    if (span.special) {  // as HF: the token itself, even when the vocabulary lacks it
      pieces.emplace_back(tokens.view(span));
      continue;
    }
    ids.clear();
    append_word_ids(tokens.view(span), ids);
    for (int32_t id : ids) pieces.push_back(vocab_.token(id));
  }
  return pieces;
}

std::vector<int32_t> WordPieceTokenizer::encode_for_model(std::string_view text,
                                                          int max_len) const {
  DOPPEL_CHECK(max_len >= 2, "max_len {} leaves no room for [CLS] and [SEP]", max_len);
  std::vector<int32_t> ids = encode(text);
  ids.resize(std::min(ids.size(), static_cast<size_t>(max_len - 2)));
  ids.insert(ids.begin(), vocab_.cls_id());
  ids.push_back(vocab_.sep_id());
  return ids;
}

namespace {

using nlohmann::json;

constexpr const char* kTokenizerConfigFile = "tokenizer_config.json";

template <typename T>
void read_field(const json& config, const std::filesystem::path& file, const char* field,
                T& value) {
  const auto it = config.find(field);
  if (it == config.end()) return;
  try {
    value = it->get<T>();
  } catch (const json::exception&) {
    fail("{}: field \"{}\" has the wrong type ({})", file.string(), field, it->dump());
  }
}

}  // namespace

void save_tokenizer_config(const std::filesystem::path& dir, const WordPieceOptions& options) {
  json config = {
      {"tokenizer_class", "BertTokenizer"},
      {"do_lower_case", options.lower_case},
      {"strip_accents", nullptr},
      {"tokenize_chinese_chars", options.split_cjk},
      {"max_input_chars_per_word", options.max_chars_per_word},
      {"unk_token", "[UNK]"},
      {"sep_token", "[SEP]"},
      {"pad_token", "[PAD]"},
      {"cls_token", "[CLS]"},
      {"mask_token", "[MASK]"},
  };
  if (options.strip_accents) config["strip_accents"] = *options.strip_accents;
  std::filesystem::create_directories(dir);
  write_file_atomic(dir / kTokenizerConfigFile, config.dump(2) + "\n");
}

WordPieceOptions load_tokenizer_config(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / kTokenizerConfigFile;
  WordPieceOptions options;
  if (!std::filesystem::exists(file)) return options;
  json config;
  try {
    config = json::parse(read_file(file));
  } catch (const json::parse_error& e) {
    fail("{}: not valid JSON: {}", file.string(), e.what());
  }
  if (!config.is_object()) fail("{}: expected a JSON object", file.string());
  read_field(config, file, "do_lower_case", options.lower_case);
  if (const auto it = config.find("strip_accents"); it != config.end() && !it->is_null()) {
    bool strip = true;
    read_field(config, file, "strip_accents", strip);
    options.strip_accents = strip;
  }
  read_field(config, file, "tokenize_chinese_chars", options.split_cjk);
  read_field(config, file, "max_input_chars_per_word", options.max_chars_per_word);
  try {
    options.validate();
  } catch (const Error& e) {
    fail("{}: {}", file.string(), e.what());
  }
  return options;
}

}  // namespace doppel
