#include "decide/pair_features.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdlib>
#include <string_view>
#include <unordered_map>

#include "text/normalize.h"
#include "util/hash.h"
#include "util/prefetch.h"

namespace doppel {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
// Bytes >= 0x80 are parts of UTF-8 letters: keep them inside tokens.
bool is_word_byte(char c) {
  return is_digit(c) || is_alpha(c) || static_cast<unsigned char>(c) >= 0x80;
}

// The one tokenizer of this module: runs of word bytes of normalised text, in order. Unlike
// text/normalize.h's word_tokens it does not add the joined form of "dsc-w120/b"; codes do that.
std::vector<std::string> split_words(std::string_view normalized) {
  std::vector<std::string> tokens;
  std::string current;
  for (char c : normalized) {
    if (is_word_byte(c)) {
      current += c;
    } else if (!current.empty()) {
      tokens.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) tokens.push_back(std::move(current));
  return tokens;
}

template <typename T>
void sort_unique(std::vector<T>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

std::string join(const std::vector<std::string>& tokens) {
  std::string out;
  for (const auto& t : tokens) {
    if (!out.empty()) out += ' ';
    out += t;
  }
  return out;
}

// ---- variant words ----------------------------------------------------------------------------

// Words that name one value of a variant attribute (a colour, who a product is for), in the
// languages of the benchmarks and of large marketplaces. Each row is one value; a token maps to
// its row's index, so spellings and translations of one value agree. Words are written as the
// language writes them and normalised here as the tokens are ("weiß" -> "weiss").
class VariantWords {
 public:
  explicit VariantWords(const std::vector<std::vector<std::string_view>>& rows) {
    for (size_t i = 0; i < rows.size(); ++i) {
      for (auto word : rows[i]) index_.emplace(normalize_text(word), static_cast<uint8_t>(i));
    }
  }
  // `token`: one token of normalised text.
  std::optional<uint8_t> value_of(const std::string& token) const {
    const auto it = index_.find(token);
    if (it == index_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::unordered_map<std::string, uint8_t> index_;
};

const VariantWords& colours() {
  static const VariantWords words({
      {"black", "schwarz", "nero", "noir", "noire", "negro", "negra", "zwart", "czarny", "preto",
       "siyah", "svart"},
      {"white", "weiss", "wei\xc3\x9f", "bianco", "bianca", "blanc", "blanche", "blanco", "blanca",
       "wit", "branco", "beyaz", "vit"},
      {"red", "rot", "rosso", "rossa", "rouge", "rojo", "roja", "rood", "vermelho",
       "k\xc4\xb1rm\xc4\xb1z\xc4\xb1", "kirmizi"},
      {"blue", "blau", "blu", "bleu", "azul", "blauw", "niebieski", "mavi"},
      {"green", "gr\xc3\xbcn", "gruen", "verde", "vert", "groen", "zielony", "ye\xc5\x9fil"},
      {"yellow", "gelb", "giallo", "jaune", "amarillo", "geel", "sar\xc4\xb1", "sari"},
      {"pink", "rosa", "roze", "pembe"},
      {"purple", "lila", "violet", "viola", "morado", "paars", "mor"},
      {"orange", "arancione", "naranja", "oranje"},
      {"grey", "gray", "grau", "grigio", "gris", "grijs", "szary", "gri", "charcoal", "graphite"},
      {"silver", "silber", "argento", "argent", "plata", "zilver"},
      {"gold", "oro", "dorado", "goud"},
      {"brown", "braun", "marrone", "marr\xc3\xb3n", "brun", "bruin"},
      {"beige", "khaki"},
      {"navy"},
      {"turquoise", "teal", "aqua"},
  });
  return words;
}

// Who a product is for: clothing, shoes and watches come in one version per audience.
const VariantWords& audiences() {
  static const VariantWords words({
      {"men", "mens", "man", "male", "herren", "homme", "hommes", "uomo", "hombre", "heren"},
      {"women", "womens", "woman", "wmns", "ladies", "lady", "female", "damen", "femme", "femmes",
       "donna", "mujer", "dames"},
      {"kids", "kid", "junior", "juniors", "youth", "children", "child", "boys", "girls", "kinder",
       "enfant", "enfants", "bambino", "ni\xc3\xb1o", "jr"},
  });
  return words;
}

// ---- quantities -------------------------------------------------------------------------------

const std::unordered_map<std::string_view, std::string_view>& unit_table() {
  static const std::unordered_map<std::string_view, std::string_view> table = {
      {"gb", "gb"},        {"gig", "gb"},      {"gigs", "gb"},      {"gigabyte", "gb"},
      {"gigabytes", "gb"}, {"tb", "tb"},       {"terabyte", "tb"},  {"terabytes", "tb"},
      {"mb", "mb"},        {"megabyte", "mb"}, {"megabytes", "mb"}, {"in", "in"},
      {"inch", "in"},      {"inches", "in"},   {"cm", "cm"},        {"mm", "mm"},
      {"ft", "ft"},        {"l", "l"},         {"lt", "l"},         {"ltr", "l"},
      {"litre", "l"},      {"litres", "l"},    {"liter", "l"},      {"liters", "l"},
      {"ml", "ml"},        {"cl", "cl"},       {"g", "g"},          {"gr", "g"},
      {"gram", "g"},       {"grams", "g"},     {"kg", "kg"},        {"kgs", "kg"},
      {"mg", "mg"},        {"oz", "oz"},       {"lb", "lb"},        {"lbs", "lb"},
      {"w", "w"},          {"watt", "w"},      {"watts", "w"},      {"kw", "kw"},
      {"v", "v"},          {"volt", "v"},      {"volts", "v"},      {"mah", "mah"},
      {"wh", "wh"},        {"hz", "hz"},       {"khz", "khz"},      {"mhz", "mhz"},
      {"ghz", "ghz"},      {"mp", "mp"},       {"megapixel", "mp"}, {"megapixels", "mp"},
      {"x", "x"},          {"k", "k"},         {"p", "p"},          {"rpm", "rpm"},
      {"pcs", "pcs"},      {"pc", "pcs"},      {"pack", "pcs"},     {"pk", "pcs"},
      {"kb", "kb"},        {"kbit", "kbit"},   {"mbit", "mbit"},    {"gbit", "gbit"},
      {"kbps", "kbit/s"},  {"mbps", "mbit/s"}, {"gbps", "gbit/s"},
  };
  return table;
}

// The length of a "per second" that follows a unit at s[i] ("/s", "/sec"), or 0: "160mb/s" is a
// transfer rate, not a size, and not the model code "160mbs".
size_t per_second_length(std::string_view s, size_t i) {
  for (std::string_view per : {"/sec", "/s"}) {
    const size_t end = i + per.size();
    if (s.substr(i, per.size()) == per && (end == s.size() || !is_word_byte(s[end]))) {
      return per.size();
    }
  }
  return 0;
}

struct Quantity {
  double value;
  std::string unit;
  size_t end;  // one past the last byte used
};

// A number followed by a unit starting at s[i] (s lower-cased). The number must not continue a
// word ("w120" is no quantity) or follow a letter and a hyphen, as code parts do ("sdcfxps-032g"
// is no 32 grams; "18-55mm" is a range and stays 55 mm); at most one ' ' or '-' may separate it
// from the unit.
std::optional<Quantity> quantity_at(std::string_view s, size_t i) {
  if (i >= s.size() || !is_digit(s[i])) return std::nullopt;
  if (i > 0 && (is_word_byte(s[i - 1]) || s[i - 1] == '.' || s[i - 1] == ',')) return std::nullopt;
  if (i > 1 && s[i - 1] == '-' && is_alpha(s[i - 2])) return std::nullopt;
  std::string number;
  size_t j = i;
  while (j < s.size() && is_digit(s[j])) number += s[j++];
  if (j + 1 < s.size() && (s[j] == '.' || s[j] == ',') && is_digit(s[j + 1])) {
    size_t k = j + 1;
    while (k < s.size() && is_digit(s[k])) ++k;
    const bool thousands = s[j] == ',' && k - j - 1 == 3;
    number += thousands ? "" : ".";
    number.append(s.substr(j + 1, k - j - 1));
    j = k;
  }
  if (j < s.size() && (s[j] == ' ' || s[j] == '-')) ++j;
  if (j >= s.size()) return std::nullopt;
  std::string unit;
  size_t end = j;
  if (s[j] == '"') {
    unit = "in";
    end = j + 1;
  } else if (s.substr(j, 2) == "''") {
    unit = "in";
    end = j + 2;
  } else {
    while (end < s.size() && is_alpha(s[end])) ++end;
    if (end < s.size() && is_word_byte(s[end])) return std::nullopt;  // "128gb2" is a code
    const auto it = unit_table().find(s.substr(j, end - j));
    if (it == unit_table().end()) return std::nullopt;
    unit = it->second;
    if (const size_t per = per_second_length(s, end); per != 0 && unit.find('/') == unit.npos) {
      unit += "/s";
      end += per;
    }
  }
  return Quantity{std::strtod(number.c_str(), nullptr), std::move(unit), end};
}

void add_quantities(std::string_view lowered, std::vector<std::pair<double, std::string>>& out) {
  for (size_t i = 0; i < lowered.size();) {
    if (auto q = quantity_at(lowered, i)) {
      out.emplace_back(q->value, std::move(q->unit));
      i = q->end;
    } else {
      ++i;
    }
  }
}

// ---- codes ------------------------------------------------------------------------------------

bool is_code_byte(char c) { return is_word_byte(c) || c == '-' || c == '/' || c == '.'; }

void add_code_candidate(std::string_view part, std::vector<std::string>& out) {
  if (auto q = quantity_at(part, 0); q && q->end == part.size()) return;  // "7.2mp"
  std::string code;
  bool letter = false, digit = false;
  for (char c : part) {
    if (c == '-' || c == '/' || c == '.') continue;
    if (static_cast<unsigned char>(c) >= 0x80) return;  // codes are ASCII
    letter |= is_alpha(c);
    digit |= is_digit(c);
    code += c;
  }
  if (code.size() >= 3 && letter && digit) out.push_back(code);
  if (code.size() >= 5 && digit && !letter) out.push_back(code);
}

// Calls f on each piece of `text` between bytes for which is_sep is true.
template <typename IsSep, typename F>
void split(std::string_view text, IsSep is_sep, F f) {
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || is_sep(text[i])) {
      if (i > start) f(text.substr(start, i - start));
      start = i + 1;
    }
  }
}

void add_codes(std::string_view lowered, std::vector<std::string>& out) {
  split(
      lowered, [](char c) { return !is_code_byte(c); },
      [&](std::string_view chunk) {
        // Trailing dots end sentences, and a trailing '-' or '/' joins the next word; neither is
        // part of a code.
        while (!chunk.empty() &&
               (chunk.back() == '.' || chunk.back() == '-' || chunk.back() == '/')) {
          chunk.remove_suffix(1);
        }
        add_code_candidate(chunk, out);
        split(
            chunk, [](char c) { return c == '/'; },
            [&](std::string_view part) {
              add_code_candidate(part, out);
              split(
                  part, [](char c) { return c == '-'; },
                  [&](std::string_view piece) { add_code_candidate(piece, out); });
            });
      });
}

// ---- comparisons ------------------------------------------------------------------------------

template <typename T>
size_t intersection_size(const std::vector<T>& a, const std::vector<T>& b) {
  size_t n = 0;
  for (auto i = a.begin(), j = b.begin(); i != a.end() && j != b.end();) {
    if (*i < *j) {
      ++i;
    } else if (*j < *i) {
      ++j;
    } else {
      ++n, ++i, ++j;
    }
  }
  return n;
}

// The number of values that one side names and the other does not (NaN if either names none).
float values_unmatched(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  if (a.empty() || b.empty()) return NAN;
  return static_cast<float>(a.size() + b.size() - 2 * intersection_size(a, b));
}

// |A∩B| / |A∪B| of two sets of sizes a and b that share `both` elements (NaN if both are empty).
float jaccard_of_sizes(size_t both, size_t a, size_t b) {
  if (a == 0 && b == 0) return NAN;
  return static_cast<float>(double(both) / double(a + b - both));
}

template <typename T>
float jaccard(const std::vector<T>& a, const std::vector<T>& b) {
  return jaccard_of_sizes(intersection_size(a, b), a.size(), b.size());
}

bool contains_word(std::string_view text, std::string_view words) {
  if (words.empty()) return false;
  for (size_t pos = text.find(words); pos != std::string_view::npos;
       pos = text.find(words, pos + 1)) {
    const size_t end = pos + words.size();
    if ((pos == 0 || text[pos - 1] == ' ') && (end == text.size() || text[end] == ' ')) return true;
  }
  return false;
}

bool any_code_in(const std::vector<std::string>& codes, std::string_view compact_title) {
  return std::any_of(codes.begin(), codes.end(), [&](const std::string& code) {
    return compact_title.find(code) != std::string_view::npos;
  });
}

// Which tokens of two sets the other set holds too, per token (1 or 0): filled by token_overlap
// and read by the comparisons that treat shared tokens as found. Reused from pair to pair.
struct SharedTokens {
  std::vector<uint8_t> a, b;
};

// Weighted overlap of two token sets: how many tokens both hold, shared weight, unshared weight,
// the heaviest shared and unshared tokens, and how many unshared tokens carry a digit. One merge;
// `shared`, when given, learns which tokens are shared.
struct TokenOverlap {
  size_t both = 0;
  double shared = 0, unshared = 0;
  float shared_max = 0, unmatched_max = 0;
  size_t unmatched_digit_tokens = 0;
};

TokenOverlap token_overlap(const TokenSet& a, const TokenSet& b, SharedTokens* shared = nullptr) {
  TokenOverlap o;
  if (shared) {
    shared->a.assign(a.size(), 0);
    shared->b.assign(b.size(), 0);
  }
  auto unmatched = [&o](std::string_view token, float weight) {
    o.unshared += weight;
    o.unmatched_max = std::max(o.unmatched_max, weight);
    o.unmatched_digit_tokens += std::any_of(token.begin(), token.end(), is_digit);
  };
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    const int order = i == a.size() ? 1 : j == b.size() ? -1 : TokenSet::compare(a, i, b, j);
    if (order < 0) {
      unmatched(a.token(i), a.weight(i));
      ++i;
    } else if (order > 0) {
      unmatched(b.token(j), b.weight(j));
      ++j;
    } else {
      // Both sides weigh a shared token the same way when weights come from one catalog; the
      // mean keeps the feature symmetric even when they do not.
      const float weight = 0.5f * (a.weight(i) + b.weight(j));
      o.shared += weight;
      o.shared_max = std::max(o.shared_max, weight);
      ++o.both;
      if (shared) shared->a[i] = shared->b[j] = 1;
      ++i, ++j;
    }
  }
  return o;
}

// Weighted share of the tokens that occur somewhere in `compact` (a title without separators);
// a token `shared` marks is one of the other title's tokens, so it is found without a search.
float compact_containment(const TokenSet& tokens, const std::vector<uint8_t>& shared,
                          std::string_view compact) {
  double found = 0, total = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    total += tokens.weight(i);
    if (shared[i] || compact.find(tokens.token(i)) != std::string_view::npos) {
      found += tokens.weight(i);
    }
  }
  return total > 0 ? static_cast<float>(found / total) : NAN;
}

// Levenshtein distance, giving up (returning limit + 1) once it must exceed `limit`.
size_t edit_distance_within(std::string_view a, std::string_view b, size_t limit) {
  if (a.size() > b.size()) std::swap(a, b);
  if (b.size() - a.size() > limit) return limit + 1;
  // One row of the table. Tokens and codes are short, so it lives on the stack: Monge-Elkan
  // calls this for most token pairs of every pair of titles, too often for a heap row each.
  constexpr size_t kStackRow = 64;
  std::array<size_t, kStackRow> stack_row;
  std::vector<size_t> heap_row;
  size_t* row = stack_row.data();
  if (a.size() >= kStackRow) {
    heap_row.resize(a.size() + 1);
    row = heap_row.data();
  }
  for (size_t i = 0; i <= a.size(); ++i) row[i] = i;
  for (size_t j = 1; j <= b.size(); ++j) {
    size_t diagonal = row[0];
    row[0] = j;
    size_t best = row[0];
    for (size_t i = 1; i <= a.size(); ++i) {
      size_t above = row[i];
      row[i] = std::min({row[i] + 1, row[i - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
      best = std::min(best, row[i]);
    }
    if (best > limit) return limit + 1;
  }
  return row[a.size()];
}

// The set of bytes of a token as 64 bits: digits and letters one bit each, other bytes folded
// onto the rest. An edit adds at most one byte value and removes at most one, so two tokens whose
// sets differ in n bits are at least ceil(n / 2) edits apart (folding only hides differences, so
// the bound holds).
uint64_t byte_set(std::string_view token) {
  uint64_t set = 0;
  for (char c : token) {
    const unsigned byte = static_cast<unsigned char>(c);
    const unsigned bit = is_digit(c)   ? byte - '0'
                         : is_alpha(c) ? 10 + (byte | 0x20) - 'a'
                                       : 36 + byte % 28;
    set |= uint64_t{1} << bit;
  }
  return set;
}

// Weighted Monge-Elkan similarity of two titles in both directions (features 30, 31): for each
// token of one title the best similarity to any token of the other, where similarity is
// 1 - Levenshtein / longer length and a shared token scores 1; averaged with the token weights.
// Edit distance is symmetric, so each pair of tokens is compared once for both directions; only
// near spellings matter (at most a third of the longer token may differ), so pairs whose lengths
// or byte sets already differ by more are skipped.
struct MongeElkan {
  float a_to_b, b_to_a;  // NaN when a title's weights sum to 0
};

MongeElkan monge_elkan(const TokenSet& a, const TokenSet& b, const SharedTokens& shared) {
  thread_local std::vector<double> a_best, b_best;
  thread_local std::vector<uint64_t> b_bytes;
  a_best.assign(shared.a.begin(), shared.a.end());
  b_best.assign(shared.b.begin(), shared.b.end());
  b_bytes.resize(b.size());
  for (size_t j = 0; j < b.size(); ++j) b_bytes[j] = byte_set(b.token(j));
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string_view ta = a.token(i);
    const uint64_t a_bytes = byte_set(ta);
    for (size_t j = 0; j < b.size(); ++j) {
      if (shared.a[i] && shared.b[j]) continue;  // both already score 1
      const std::string_view tb = b.token(j);
      const size_t longer = std::max(ta.size(), tb.size());
      const size_t limit = longer / 3;
      if (limit == 0) continue;  // only an exact match would do, and there is none
      if (size_t(std::popcount(a_bytes ^ b_bytes[j]) + 1) / 2 > limit) continue;
      const size_t d = edit_distance_within(ta, tb, limit);
      if (d > limit) continue;
      const double similarity = 1.0 - double(d) / double(longer);
      a_best[i] = std::max(a_best[i], similarity);
      b_best[j] = std::max(b_best[j], similarity);
    }
  }
  auto mean = [](const TokenSet& tokens, const std::vector<double>& best) {
    double total = 0, score = 0;
    for (size_t i = 0; i < tokens.size(); ++i) {
      total += tokens.weight(i);
      score += tokens.weight(i) * best[i];
    }
    return total > 0 ? static_cast<float>(score / total) : NAN;
  };
  return {mean(a, a_best), mean(b, b_best)};
}

// Whether a code of one listing is one or two edits from a code of the other: "tlsg1005d" /
// "tlsf1005d". Codes that contain one another are the same code written with or without a prefix
// ("tlsg1005d" / "sg1005d"). Feature 28 asks only when the listings share no code (any shared code
// means no miss at all), and pair_features has counted the shared codes already.
bool codes_near_miss(const ListingProfile& a, const ListingProfile& b) {
  for (const auto& ca : a.codes) {
    if (ca.size() < 4) continue;
    for (const auto& cb : b.codes) {
      if (cb.size() < 4) continue;
      if (ca.find(cb) != std::string::npos || cb.find(ca) != std::string::npos) continue;
      if (edit_distance_within(ca, cb, 2) <= 2) return true;
    }
  }
  return false;
}

// The leading bytes two codes share over the longer code's length. Sellers append variant
// suffixes to one code ("mz7te250bw" / "mz7te250": 0.8), while sibling products part early
// ("tlsg1005d" / "tlsf1005d": 0.33).
double prefix_share(const std::string& a, const std::string& b) {
  const auto common = std::mismatch(a.begin(), a.end(), b.begin(), b.end()).first - a.begin();
  return double(common) / double(std::max(a.size(), b.size()));
}

// prefix_share of the best code pair (NaN if either side has no code).
float codes_prefix_share(const ListingProfile& a, const ListingProfile& b) {
  if (a.codes.empty() || b.codes.empty()) return NAN;
  double best = 0;
  for (const auto& ca : a.codes) {
    for (const auto& cb : b.codes) best = std::max(best, prefix_share(ca, cb));
  }
  return static_cast<float>(best);
}

// (value, unit) pairs of `from` whose unit `other` mentions, but never with that value.
size_t unmatched_quantities(const ListingProfile& from, const ListingProfile& other) {
  size_t n = 0;
  for (const auto& q : from.quantities) {
    bool unit_seen = false, value_seen = false;
    for (const auto& o : other.quantities) {
      if (o.second != q.second) continue;
      unit_seen = true;
      value_seen |= o.first == q.first;
    }
    n += unit_seen && !value_seen;
  }
  return n;
}

float weighted_jaccard(const TokenOverlap& o) {
  const double total = o.shared + o.unshared;
  return total > 0 ? static_cast<float>(o.shared / total) : NAN;
}

float brand_match(const ListingProfile& a, const ListingProfile& b) {
  if (!a.brand.empty() && !b.brand.empty() && a.brand == b.brand) return 1;
  if (contains_word(b.title_text, a.brand) || contains_word(a.title_text, b.brand)) return 1;
  return (a.brand.empty() || b.brand.empty()) ? NAN : 0;
}

// Units present on both sides with no value in common. Symmetric; profiles hold a handful of
// quantities, so quadratic loops beat building maps.
float quantity_conflicts(const ListingProfile& a, const ListingProfile& b) {
  size_t conflicts = 0;
  for (size_t i = 0; i < a.quantities.size(); ++i) {
    const std::string& unit = a.quantities[i].second;
    const auto first_of_unit = std::find_if(a.quantities.begin(), a.quantities.end(),
                                            [&](const auto& q) { return q.second == unit; });
    if (first_of_unit != a.quantities.begin() + static_cast<std::ptrdiff_t>(i)) continue;
    bool on_b = false, shared = false;
    for (const auto& [b_value, b_unit] : b.quantities) {
      if (b_unit != unit) continue;
      on_b = true;
      for (const auto& [a_value, a_unit] : a.quantities) {
        shared |= a_unit == unit && a_value == b_value;
      }
    }
    if (on_b && !shared) ++conflicts;
  }
  return static_cast<float>(conflicts);
}

// A price written at the end of a title ("... toner cartridge tn450 42.49", "... $9.99"): the
// last word, when it is digits, '.', exactly two digits, with an optional leading '$'. Feeds
// that run every field into the title put the price last. Two decimals only: one is a version
// or a size more often than a price ("acrobat 9.0", "15.6"). On success, `title` loses the word;
// a title that is nothing but the number keeps it.
std::optional<double> take_trailing_price(std::string_view& title) {
  std::string_view rest = title;
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back())))
    rest.remove_suffix(1);
  const size_t space = rest.find_last_of(" \t");
  if (space == std::string_view::npos) return std::nullopt;  // the price would be the whole title
  const size_t start = space + 1;
  std::string_view word = rest.substr(start);
  if (!word.empty() && word.front() == '$') word.remove_prefix(1);
  const size_t dot = word.find('.');
  if (dot == std::string_view::npos || dot == 0 || word.size() - dot != 3) return std::nullopt;
  for (size_t i = 0; i < word.size(); ++i) {
    if (i != dot && !is_digit(word[i])) return std::nullopt;
  }
  const double value = std::strtod(std::string(word).c_str(), nullptr);
  if (!(value > 0)) return std::nullopt;
  title = rest.substr(0, start);
  return value;
}

// Feature 34 (pair_features.h): how many whole tokens the two token strings (tokens joined by
// single spaces) end with alike.
float common_suffix_tokens(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return NAN;
  size_t i = a.size(), j = b.size();
  int tokens = 0;
  while (i > 0 && j > 0 && a[i - 1] == b[j - 1]) {
    --i;
    --j;
    if (a[i] == ' ') ++tokens;  // the token after this space matched whole
  }
  if ((i == 0 || a[i - 1] == ' ') && (j == 0 || b[j - 1] == ' ')) ++tokens;
  return static_cast<float>(tokens);
}

}  // namespace

ListingProfile make_profile(const Listing& listing, const TokenWeight& token_weight) {
  ListingProfile p;
  std::string_view title_body = listing.title;  // the title less a trailing price
  if (listing.price && *listing.price > 0 && std::isfinite(*listing.price)) {
    p.price = listing.price;
  } else {
    p.price = take_trailing_price(title_body);
  }
  // Every field is normalised first (text/normalize.h: NFKC, case-folded, accents stripped), as
  // the TF-IDF that weighs the tokens normalises it: "CAFÉ", "Café" and "cafe" are one token.
  const std::string title = normalize_text(title_body);
  const auto title_words = split_words(title);
  p.title_length = title_words.size();
  p.title_text = join(title_words);
  for (const auto& w : title_words) p.title_compact += w;
  p.title_tokens = TokenSet(title_words, token_weight);
  for (size_t i = 0; i < p.title_tokens.size(); ++i) {
    const std::string w(p.title_tokens.token(i));
    if (std::all_of(w.begin(), w.end(), is_digit)) p.numbers.push_back(w);
    if (auto colour = colours().value_of(w)) p.colours.push_back(*colour);
    if (auto audience = audiences().value_of(w)) p.audiences.push_back(*audience);
  }
  sort_unique(p.colours);
  sort_unique(p.audiences);

  const std::string brand = normalize_text(listing.brand);
  const std::string model_number = normalize_text(listing.model_number);
  const std::string category = normalize_text(listing.category);
  const std::string description = normalize_text(listing.description);
  std::vector<std::string> text_words = title_words;
  for (const std::string* field : {&brand, &model_number, &category, &description}) {
    for (auto& w : split_words(*field)) text_words.push_back(std::move(w));
  }
  p.text_tokens = TokenSet(std::move(text_words), token_weight);

  const std::string padded = " " + p.title_text + " ";
  for (size_t i = 0; i + 3 <= padded.size(); ++i) {
    p.title_trigrams.push_back(fnv1a64(std::string_view(padded).substr(i, 3)));
  }
  sort_unique(p.title_trigrams);

  add_codes(title, p.codes);
  if (!p.codes.empty()) p.lead_code = p.codes.front();
  add_codes(model_number, p.codes);
  add_codes(description, p.codes);
  sort_unique(p.codes);
  add_quantities(title, p.quantities);
  add_quantities(description, p.quantities);
  sort_unique(p.quantities);

  p.brand = join(split_words(brand));
  return p;
}

void ListingProfile::prefetch() const {
  title_tokens.prefetch();
  text_tokens.prefetch();
  prefetch_bytes(title_trigrams.data(), 1);
  prefetch_bytes(codes.data(), 1);
}

const std::array<std::string_view, kNumPairFeatures>& pair_feature_names() {
  static const std::array<std::string_view, kNumPairFeatures> names = {
      "vector_cosine",
      "tfidf_cosine",
      "title_jaccard",
      "text_jaccard",
      "title_trigram_jaccard",
      "title_containment_min",
      "title_containment_max",
      "codes_shared",
      "codes_any_shared",
      "codes_disjoint",
      "code_in_other_title",
      "quantities_shared",
      "quantities_conflicts",
      "numbers_jaccard",
      "brand_match",
      "price_ratio",
      "price_log_ratio_abs",
      "title_length_ratio",
      "title_length_min",
      "title_length_max",
      "title_tfidf_cosine",
      "title_weighted_jaccard",
      "unmatched_weight_max",
      "unmatched_digit_tokens",
      "text_weighted_jaccard",
      "text_unmatched_weight_max",
      "compact_containment_min",
      "compact_containment_max",
      "codes_near_miss",
      "quantities_unmatched",
      "monge_elkan_min",
      "monge_elkan_max",
      "codes_prefix_share",
      "shared_weight_max",
      "title_common_suffix",
      "lead_codes_equal",
      "lead_codes_prefix_share",
      "colours_unmatched",
      "audiences_unmatched",
  };
  return names;
}

void pair_features(const ListingProfile& a, const ListingProfile& b, const PairInputs& inputs,
                   float* out) {
  int k = 0;
  out[k++] = inputs.vector_cosine;
  out[k++] = inputs.tfidf_cosine;
  // One merge per token set gives the overlaps of several features.
  thread_local SharedTokens shared;
  const TokenOverlap title = token_overlap(a.title_tokens, b.title_tokens, &shared);
  const TokenOverlap text = token_overlap(a.text_tokens, b.text_tokens);
  out[k++] = jaccard_of_sizes(title.both, a.title_tokens.size(), b.title_tokens.size());
  out[k++] = jaccard_of_sizes(text.both, a.text_tokens.size(), b.text_tokens.size());
  out[k++] = jaccard(a.title_trigrams, b.title_trigrams);

  if (a.title_tokens.empty() || b.title_tokens.empty()) {
    out[k++] = NAN;
    out[k++] = NAN;
  } else {
    const double both = double(title.both);
    const double ca = both / double(a.title_tokens.size());
    const double cb = both / double(b.title_tokens.size());
    out[k++] = static_cast<float>(std::min(ca, cb));
    out[k++] = static_cast<float>(std::max(ca, cb));
  }

  const bool codes_both = !a.codes.empty() && !b.codes.empty();
  const size_t codes_shared = intersection_size(a.codes, b.codes);
  out[k++] = codes_both ? static_cast<float>(codes_shared) : NAN;
  out[k++] = codes_both ? (codes_shared > 0 ? 1.0f : 0.0f) : NAN;
  out[k++] = codes_both && codes_shared == 0 ? 1.0f : 0.0f;
  out[k++] =
      (a.codes.empty() && b.codes.empty())
          ? NAN
          : (any_code_in(a.codes, b.title_compact) || any_code_in(b.codes, a.title_compact) ? 1.0f
                                                                                            : 0.0f);

  const bool quantities_both = !a.quantities.empty() && !b.quantities.empty();
  out[k++] =
      quantities_both ? static_cast<float>(intersection_size(a.quantities, b.quantities)) : NAN;
  out[k++] = quantities_both ? quantity_conflicts(a, b) : NAN;
  out[k++] = jaccard(a.numbers, b.numbers);
  out[k++] = brand_match(a, b);

  if (a.price && b.price) {
    const double lo = std::min(*a.price, *b.price), hi = std::max(*a.price, *b.price);
    out[k++] = static_cast<float>(lo / hi);
    out[k++] = static_cast<float>(std::log(hi) - std::log(lo));
  } else {
    out[k++] = NAN;
    out[k++] = NAN;
  }

  const double lo_len = double(std::min(a.title_length, b.title_length));
  const double hi_len = double(std::max(a.title_length, b.title_length));
  out[k++] = lo_len > 0 ? static_cast<float>(lo_len / hi_len) : NAN;
  out[k++] = static_cast<float>(lo_len);
  out[k++] = static_cast<float>(hi_len);

  out[k++] = inputs.title_tfidf_cosine;
  const bool no_title = a.title_tokens.empty() && b.title_tokens.empty();
  out[k++] = no_title ? NAN : weighted_jaccard(title);
  out[k++] = no_title ? NAN : title.unmatched_max;
  out[k++] = static_cast<float>(title.unmatched_digit_tokens);
  const bool no_text = a.text_tokens.empty() && b.text_tokens.empty();
  out[k++] = no_text ? NAN : weighted_jaccard(text);
  out[k++] = no_text ? NAN : text.unmatched_max;

  const float contained_ab = compact_containment(a.title_tokens, shared.a, b.title_compact);
  const float contained_ba = compact_containment(b.title_tokens, shared.b, a.title_compact);
  const bool both_titles = !a.title_tokens.empty() && !b.title_tokens.empty();
  out[k++] = both_titles ? std::min(contained_ab, contained_ba) : NAN;
  out[k++] = both_titles ? std::max(contained_ab, contained_ba) : NAN;
  out[k++] = codes_both ? (codes_shared == 0 && codes_near_miss(a, b) ? 1.0f : 0.0f) : NAN;
  out[k++] = quantities_both
                 ? static_cast<float>(unmatched_quantities(a, b) + unmatched_quantities(b, a))
                 : NAN;
  if (both_titles) {
    const MongeElkan me = monge_elkan(a.title_tokens, b.title_tokens, shared);
    out[k++] = std::min(me.a_to_b, me.b_to_a);
    out[k++] = std::max(me.a_to_b, me.b_to_a);
  } else {
    out[k++] = NAN;
    out[k++] = NAN;
  }
  out[k++] = codes_prefix_share(a, b);
  out[k++] = no_title ? NAN : title.shared_max;
  out[k++] = common_suffix_tokens(a.title_text, b.title_text);
  const bool leads_both = !a.lead_code.empty() && !b.lead_code.empty();
  out[k++] = leads_both ? (a.lead_code == b.lead_code ? 1.0f : 0.0f) : NAN;
  out[k++] = leads_both ? static_cast<float>(prefix_share(a.lead_code, b.lead_code)) : NAN;
  out[k++] = values_unmatched(a.colours, b.colours);
  out[k++] = values_unmatched(a.audiences, b.audiences);
}

}  // namespace doppel
