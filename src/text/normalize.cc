#include "text/normalize.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace doppel {
namespace {

// Replaces every byte that does not start a valid UTF-8 sequence with a space.
std::string replace_invalid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  size_t i = 0;
  while (i < text.size()) {
    utf8proc_int32_t cp;
    const utf8proc_ssize_t len = utf8proc_iterate(p + i, text.size() - i, &cp);
    if (len <= 0) {
      out += ' ';
      ++i;
    } else {
      out.append(text.data() + i, len);
      i += len;
    }
  }
  return out;
}

bool is_space(utf8proc_int32_t cp) {
  if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\v' || cp == '\f') return true;
  if (cp < 0x80) return false;  // no other ASCII character is a separator (Z*)
  const auto cat = utf8proc_category(cp);
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

bool is_ascii_alnum(utf8proc_int32_t cp) {
  return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
}

bool is_word_char(utf8proc_int32_t cp) {
  if (cp < 0x80) return is_ascii_alnum(cp);  // the ASCII letters (L*) and digits (Nd)
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

bool is_digit(utf8proc_int32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return utf8proc_category(cp) == UTF8PROC_CATEGORY_ND;
}

// Printable ASCII (0x20-0x7E) is its own NFKC form and holds no mark, ignorable or control
// character; case folding lowers A-Z and nothing else.
bool is_printable_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// normalize_text of printable ASCII, without the Unicode tables: most catalog titles.
std::string normalize_printable_ascii(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (const char c : text) {
    if (c == ' ') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

struct Codepoint {
  utf8proc_int32_t cp;
  size_t begin;  // byte offsets in the source text
  size_t end;
};

std::vector<Codepoint> decode(std::string_view text) {
  std::vector<Codepoint> out;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  size_t i = 0;
  while (i < text.size()) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t len = utf8proc_iterate(p + i, text.size() - i, &cp);
    if (len <= 0) {  // not normalised input: treat the byte as a separator
      cp = ' ';
      len = 1;
    }
    out.push_back({cp, i, i + static_cast<size_t>(len)});
    i += len;
  }
  return out;
}

}  // namespace

std::string normalize_text(std::string_view utf8) {
  if (is_printable_ascii(utf8)) return normalize_printable_ascii(utf8);
  const std::string valid = replace_invalid_utf8(utf8);
  utf8proc_uint8_t* mapped = nullptr;
  const auto options = static_cast<utf8proc_option_t>(
      UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
      UTF8PROC_STRIPMARK | UTF8PROC_STRIPCC | UTF8PROC_IGNORE);
  const utf8proc_ssize_t len =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(valid.data()),
                   static_cast<utf8proc_ssize_t>(valid.size()), &mapped, options);
  std::string folded;
  if (len >= 0) {
    folded.assign(reinterpret_cast<const char*>(mapped), static_cast<size_t>(len));
  }
  std::free(mapped);
  if (len < 0) return {};  // only UTF8PROC_ERROR_NOMEM can happen on valid input

  std::string out;
  out.reserve(folded.size());
  bool pending_space = false;
  for (const Codepoint& c : decode(folded)) {
    if (is_space(c.cp)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out.append(folded, c.begin, c.end - c.begin);
  }
  return out;
}

std::vector<std::string> word_tokens(std::string_view normalized) {
  const std::vector<Codepoint> cps = decode(normalized);
  std::vector<std::string> tokens;
  std::vector<std::string> group;  // the runs of the current joined group
  std::string joined;
  auto end_group = [&] {
    if (group.size() > 1) tokens.push_back(joined);
    group.clear();
    joined.clear();
  };
  size_t i = 0;
  while (i < cps.size()) {
    if (!is_word_char(cps[i].cp)) {
      end_group();
      ++i;
      continue;
    }
    size_t j = i;
    while (j < cps.size() && is_word_char(cps[j].cp)) ++j;
    std::string run(normalized.substr(cps[i].begin, cps[j - 1].end - cps[i].begin));
    tokens.push_back(run);
    group.push_back(run);
    joined += run;
    // A single joiner followed by another run continues the group.
    const bool joiner = j + 1 < cps.size() &&
                        (cps[j].cp == '-' || cps[j].cp == '/' || cps[j].cp == '.') &&
                        is_word_char(cps[j + 1].cp);
    if (!joiner) {
      end_group();
      i = j;
      continue;
    }
    if (cps[j].cp == '.' && is_digit(cps[j - 1].cp) && is_digit(cps[j + 1].cp)) joined += '.';
    i = j + 1;
  }
  end_group();
  return tokens;
}

std::string listing_text(const Listing& listing) {
  std::string out;
  auto append = [&out](std::string_view part) {
    if (part.empty()) return;
    if (!out.empty()) out += ' ';
    out += part;
  };
  append(listing.title);
  append(listing.brand);
  append(listing.model_number);
  constexpr int kDescriptionWords = 30;
  std::string_view rest = listing.description;
  for (int words = 0; words < kDescriptionWords;) {
    const size_t start = rest.find_first_not_of(" \t\r\n\v\f");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const size_t end = rest.find_first_of(" \t\r\n\v\f");
    append(rest.substr(0, end));
    ++words;
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end);
  }
  return out;
}

}  // namespace doppel
