#include "synth/seller_text.h"

#include <array>
#include <cctype>
#include <utility>

namespace doppel {
namespace {

// Lower / upper case pairs of the two-byte UTF-8 letters sellers' titles use here.
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kLatin1Letters = {
    {{"å", "Å"}, {"ä", "Ä"}, {"ö", "Ö"}, {"ü", "Ü"}, {"é", "É"}}};

std::string change_case(std::string_view text, bool upper) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      out += static_cast<char>(upper ? std::toupper(c) : std::tolower(c));
      continue;
    }
    bool mapped = false;
    for (const auto& [lower, capital] : kLatin1Letters) {
      const std::string_view from = upper ? lower : capital, to = upper ? capital : lower;
      if (text.substr(i, from.size()) == from) {
        out += to;
        i += from.size() - 1;
        mapped = true;
        break;
      }
    }
    if (!mapped) out += text[i];
  }
  return out;
}

}  // namespace

std::string lower_case(std::string_view text) { return change_case(text, false); }
std::string upper_case(std::string_view text) { return change_case(text, true); }

std::string transposition_typo(std::string title, std::mt19937_64& rng) {
  if (title.size() <= 8) return title;
  const size_t i = 3 + rng() % (title.size() - 5);
  const auto ascii = [](char c) { return static_cast<unsigned char>(c) < 0x80; };
  if (ascii(title[i]) && ascii(title[i + 1])) std::swap(title[i], title[i + 1]);
  return title;
}

}  // namespace doppel
