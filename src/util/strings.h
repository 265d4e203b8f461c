// Small string helpers shared by the file readers.
#pragma once

#include <string>
#include <string_view>

namespace doppel {

// The text without leading and trailing ASCII whitespace (space, \t, \n, \r, \f, \v).
std::string trim(std::string_view text);

}  // namespace doppel
