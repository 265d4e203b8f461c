#include "text/wordpiece_trainer.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <queue>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "util/error.h"

namespace doppel {
namespace {

constexpr std::string_view kContinuation = "##";

struct Char {
  char32_t cp;
  std::string_view utf8;
};

// The characters of a basic token (valid UTF-8: the basic tokenizer only emits that).
std::vector<Char> chars_of(std::string_view word) {
  std::vector<Char> chars;
  for (size_t i = 0; i < word.size();) {
    utf8proc_int32_t cp;
    const utf8proc_ssize_t len =
        utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(word.data() + i),
                         static_cast<utf8proc_ssize_t>(word.size() - i), &cp);
    DOPPEL_CHECK(len > 0, "basic token is not valid UTF-8 at byte {}", i);
    chars.push_back({static_cast<char32_t>(cp), word.substr(i, static_cast<size_t>(len))});
    i += static_cast<size_t>(len);
  }
  return chars;
}

bool is_digit(char32_t cp) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp)) == UTF8PROC_CATEGORY_ND;
}

// Counts of the basic tokens of all texts, specials and over-long words left out (the tokenizer
// maps those to a single id whatever the vocabulary holds).
std::unordered_map<std::string, int64_t> count_words(std::span<const std::string> texts,
                                                     const WordPieceTrainerOptions& options) {
  const std::unordered_set<std::string> specials(options.specials.begin(), options.specials.end());
  std::unordered_map<std::string, int64_t> counts;
  for (const std::string& text : texts) {
    for (std::string& word : basic_tokenize(text, options.tokenizer)) {
      // '[' is punctuation, so a longer token starting with it is a special kept whole ([SEP]).
      if (specials.contains(word) || (word.size() > 1 && word[0] == '[')) continue;
      const auto length = std::ranges::count_if(
          word, [](char byte) { return (static_cast<unsigned char>(byte) & 0xC0) != 0x80; });
      if (length > options.tokenizer.max_chars_per_word) continue;
      ++counts[std::move(word)];
    }
  }
  return counts;
}

// The vocabulary under construction: token strings and their ids.
class TokenSet {
 public:
  // The id of `token`, added at the end when new.
  int32_t add(std::string token) {
    const auto [it, inserted] = ids_.try_emplace(token, static_cast<int32_t>(tokens_.size()));
    if (inserted) tokens_.push_back(std::move(token));
    return it->second;
  }
  const std::string& token(int32_t id) const { return tokens_[static_cast<size_t>(id)]; }
  size_t size() const { return tokens_.size(); }
  std::vector<std::string> release() { return std::move(tokens_); }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int32_t> ids_;
};

// The ids of each alphabet character's two forms; absent characters are outside the alphabet.
struct Alphabet {
  struct Ids {
    int32_t initial;
    int32_t continuation;  // -1 for a character that never continues a word (punctuation, CJK)
  };
  std::unordered_map<char32_t, Ids> ids;
};

// The limit_alphabet most frequent characters (ties: lower code point), fewer when their tokens
// would not fit in vocab_size; added to `tokens` by code point, initial forms then "##" forms.
Alphabet choose_alphabet(const std::unordered_map<std::string, int64_t>& words,
                         const WordPieceTrainerOptions& options, TokenSet& tokens) {
  std::unordered_map<char32_t, int64_t> frequency;
  std::unordered_map<char32_t, std::string> utf8;
  for (const auto& [word, count] : words) {
    for (const Char& c : chars_of(word)) {
      frequency[c.cp] += count;
      utf8.try_emplace(c.cp, c.utf8);
    }
  }
  std::vector<std::pair<char32_t, int64_t>> ranked(frequency.begin(), frequency.end());
  std::ranges::sort(ranked, [](const auto& x, const auto& y) {
    return x.second != y.second ? x.second > y.second : x.first < y.first;
  });
  std::vector<char32_t> kept;
  size_t budget = static_cast<size_t>(options.vocab_size) - tokens.size();
  for (const auto& [cp, count] : ranked) {
    const size_t cost = is_standalone_char(cp, options.tokenizer) ? 1 : 2;
    if (kept.size() == static_cast<size_t>(options.limit_alphabet) || cost > budget) break;
    kept.push_back(cp);
    budget -= cost;
  }
  std::ranges::sort(kept);
  Alphabet alphabet;
  for (char32_t cp : kept) alphabet.ids[cp] = {tokens.add(utf8[cp]), -1};
  for (char32_t cp : kept) {
    if (!is_standalone_char(cp, options.tokenizer)) {
      alphabet.ids[cp].continuation = tokens.add(std::string(kContinuation) + utf8[cp]);
    }
  }
  return alphabet;
}

// A run of characters that merges may join: symbol ids and how often the run occurs.
struct Fragment {
  std::vector<int32_t> symbols;
  int64_t count;
};

// Cuts every word into fragments: at characters outside the alphabet (dropped) and, with
// split_digits, between a digit and a non-digit. Only the first fragment of a word starting at
// its first character uses the initial form. Identical fragments are counted once, in sorted
// order so that the merges do not depend on hash order; one-symbol fragments have no pairs and
// are left out.
std::vector<Fragment> fragments(const std::unordered_map<std::string, int64_t>& words,
                                const Alphabet& alphabet, bool split_digits) {
  std::map<std::vector<int32_t>, int64_t> counts;
  std::vector<int32_t> current;
  auto flush = [&](int64_t count) {
    if (current.size() > 1) counts[current] += count;
    current.clear();
  };
  for (const auto& [word, count] : words) {
    const std::vector<Char> chars = chars_of(word);
    for (size_t i = 0; i < chars.size(); ++i) {
      const auto it = alphabet.ids.find(chars[i].cp);
      if (it == alphabet.ids.end()) {
        flush(count);
        continue;
      }
      if (split_digits && i > 0 && is_digit(chars[i].cp) != is_digit(chars[i - 1].cp)) {
        flush(count);
      }
      current.push_back(i == 0 ? it->second.initial : it->second.continuation);
    }
    flush(count);
  }
  std::vector<Fragment> out;
  out.reserve(counts.size());
  for (auto& [symbols, count] : counts) out.push_back({symbols, count});
  return out;
}

using PairKey = uint64_t;

PairKey pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

// Candidate merge in the queue: most frequent first, ties to the lower pair of ids.
struct Candidate {
  int64_t count;
  PairKey pair;
  bool operator<(const Candidate& other) const {
    return count != other.count ? count < other.count : pair > other.pair;
  }
};

// BPE over the fragments with incremental pair counts: a merge touches only the fragments that
// hold the pair (`where`), and queue entries whose count went stale are re-queued when popped.
class Merger {
 public:
  Merger(std::vector<Fragment> fragments, TokenSet& tokens)
      : fragments_(std::move(fragments)), tokens_(tokens) {
    for (size_t f = 0; f < fragments_.size(); ++f) {
      const auto& s = fragments_[f].symbols;
      for (size_t i = 0; i + 1 < s.size(); ++i) {
        add(pair_key(s[i], s[i + 1]), fragments_[f].count, static_cast<int32_t>(f));
      }
    }
    for (const auto& [pair, count] : counts_) queue_.push({count, pair});
  }

  void run(size_t vocab_size, int64_t min_frequency) {
    while (tokens_.size() < vocab_size && !queue_.empty()) {
      const Candidate top = queue_.top();
      queue_.pop();
      const auto it = counts_.find(top.pair);
      const int64_t count = it == counts_.end() ? 0 : it->second;
      if (count != top.count) {  // stale entry
        if (count > 0) queue_.push({count, top.pair});
        continue;
      }
      if (count < min_frequency) break;
      merge(top.pair);
    }
  }

 private:
  void add(PairKey pair, int64_t count, int32_t fragment) {
    counts_[pair] += count;
    auto& holders = where_[pair];
    if (holders.empty() || holders.back() != fragment) holders.push_back(fragment);
  }

  void merge(PairKey pair) {
    const auto a = static_cast<int32_t>(pair >> 32);
    const auto b = static_cast<int32_t>(pair & 0xFFFFFFFFu);
    // b is never word-initial, so it always carries the "##" prefix, which the merged token drops.
    const int32_t merged =
        tokens_.add(tokens_.token(a) + tokens_.token(b).substr(kContinuation.size()));
    const std::vector<int32_t> holders = std::move(where_[pair]);
    where_.erase(pair);
    std::vector<PairKey> grown;
    for (int32_t f : holders) {  // a fragment listed twice finds nothing left the second time
      auto& s = fragments_[static_cast<size_t>(f)].symbols;
      const int64_t count = fragments_[static_cast<size_t>(f)].count;
      for (size_t i = 0; i + 1 < s.size(); ++i) {
        if (s[i] != a || s[i + 1] != b) continue;
        if (i > 0) {
          counts_[pair_key(s[i - 1], a)] -= count;
          add(pair_key(s[i - 1], merged), count, f);
          grown.push_back(pair_key(s[i - 1], merged));
        }
        if (i + 2 < s.size()) {
          counts_[pair_key(b, s[i + 2])] -= count;
          add(pair_key(merged, s[i + 2]), count, f);
          grown.push_back(pair_key(merged, s[i + 2]));
        }
        s[i] = merged;
        s.erase(s.begin() + static_cast<ptrdiff_t>(i) + 1);
      }
    }
    counts_.erase(pair);
    std::ranges::sort(grown);
    const auto [first, last] = std::ranges::unique(grown);
    grown.erase(first, last);
    for (PairKey p : grown) {
      const int64_t count = counts_[p];
      if (count > 0) queue_.push({count, p});
    }
  }

  std::vector<Fragment> fragments_;
  TokenSet& tokens_;
  std::unordered_map<PairKey, int64_t> counts_;
  std::unordered_map<PairKey, std::vector<int32_t>> where_;  // fragments that may hold the pair
  std::priority_queue<Candidate> queue_;
};

}  // namespace

void WordPieceTrainerOptions::validate() const {
  tokenizer.validate();
  if (min_frequency < 1) {
    fail("tokenizer training: min_frequency must be at least 1, got {}", min_frequency);
  }
  if (limit_alphabet < 0) {
    fail("tokenizer training: limit_alphabet must not be negative, got {}", limit_alphabet);
  }
  if (std::ranges::find(specials, "[UNK]") == specials.end()) {
    fail("tokenizer training: specials must include [UNK]");
  }
  std::unordered_set<std::string> seen;
  for (const std::string& special : specials) {
    if (special.empty() || special.find_first_of(" \t\r\n") != std::string::npos) {
      fail("tokenizer training: special token \"{}\" is empty or contains whitespace", special);
    }
    if (!seen.insert(special).second) {
      fail("tokenizer training: special token {} listed twice", special);
    }
  }
  if (vocab_size < static_cast<int>(specials.size())) {
    fail("tokenizer training: vocab_size {} is smaller than the {} special tokens", vocab_size,
         specials.size());
  }
}

Vocabulary train_wordpiece(std::span<const std::string> texts,
                           const WordPieceTrainerOptions& options) {
  options.validate();
  TokenSet tokens;
  for (const std::string& special : options.specials) tokens.add(special);
  const auto words = count_words(texts, options);
  const Alphabet alphabet = choose_alphabet(words, options, tokens);
  Merger merger(fragments(words, alphabet, options.split_digits), tokens);
  merger.run(static_cast<size_t>(options.vocab_size), options.min_frequency);
  return Vocabulary(tokens.release());
}

}  // namespace doppel
