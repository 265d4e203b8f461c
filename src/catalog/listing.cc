#include "catalog/listing.h"

#include <algorithm>
#include <cctype>

namespace doppel {
namespace {

bool is_code_byte(unsigned char c) { return std::isalnum(c) || c == '-' || c == '/' || c == '.'; }
bool is_separator(char c) { return c == '-' || c == '/' || c == '.'; }

// A number (digits with an optional decimal part), numbers joined by 'x', then letters only:
// "128gb", "2.4ghz", "2x8gb", "1920x1080". `run` is lower-case.
bool is_quantity(std::string_view run) {
  size_t i = 0;
  auto number = [&] {
    const size_t start = i;
    while (i < run.size() && std::isdigit(static_cast<unsigned char>(run[i]))) ++i;
    if (i == start) return false;
    if (i + 1 < run.size() && run[i] == '.' &&
        std::isdigit(static_cast<unsigned char>(run[i + 1]))) {
      ++i;
      while (i < run.size() && std::isdigit(static_cast<unsigned char>(run[i]))) ++i;
    }
    return true;
  };
  if (!number()) return false;
  while (i + 1 < run.size() && run[i] == 'x' &&
         std::isdigit(static_cast<unsigned char>(run[i + 1]))) {
    ++i;
    number();
  }
  return std::all_of(run.begin() + static_cast<std::ptrdiff_t>(i), run.end(),
                     [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
}

// The code of a lower-cased run of code bytes, or "" when it is none (see listing_codes).
std::string code_of(std::string_view run) {
  while (!run.empty() && is_separator(run.front())) run.remove_prefix(1);
  while (!run.empty() && is_separator(run.back())) run.remove_suffix(1);
  if (is_quantity(run)) return {};
  std::string code;
  bool letter = false, digit = false;
  for (char c : run) {
    if (is_separator(c)) continue;
    letter |= std::isalpha(static_cast<unsigned char>(c)) != 0;
    digit |= std::isdigit(static_cast<unsigned char>(c)) != 0;
    code += c;
  }
  return code.size() >= 5 && letter && digit ? code : std::string();
}

std::string model_number_key(std::string_view model_number) {
  std::string key;
  for (unsigned char c : model_number)
    if (std::isalnum(c)) key.push_back(static_cast<char>(std::tolower(c)));
  return key.size() >= 4 ? key : std::string();
}

}  // namespace

std::vector<std::string> listing_codes(const Listing& listing) {
  std::vector<std::string> codes;
  if (auto key = model_number_key(listing.model_number); !key.empty())
    codes.push_back(std::move(key));
  std::string run;
  auto end_run = [&] {
    if (auto code = code_of(run); !code.empty()) codes.push_back(std::move(code));
    run.clear();
  };
  for (unsigned char c : listing.title) {
    if (c < 0x80 && is_code_byte(c)) {
      run.push_back(static_cast<char>(std::tolower(c)));
    } else {
      end_run();
    }
  }
  end_run();
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  return codes;
}

}  // namespace doppel
