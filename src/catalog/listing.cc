#include "catalog/listing.h"

#include <cctype>

namespace doppel {

std::string model_number_key(std::string_view model_number) {
  std::string key;
  for (unsigned char c : model_number)
    if (std::isalnum(c)) key.push_back(static_cast<char>(std::tolower(c)));
  return key.size() >= 4 ? key : std::string();
}

}  // namespace doppel
