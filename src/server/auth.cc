#include "server/auth.h"

#include <cstdlib>

#include "util/error.h"
#include "util/files.h"

namespace doppel {

std::string load_token(const std::filesystem::path& token_file) {
  if (!token_file.empty()) {
    const std::string text = read_file(token_file);
    std::string token = text.substr(0, text.find_first_of("\r\n"));
    if (token.empty()) fail("{}: the token file is empty", token_file.string());
    return token;
  }
  const char* env = std::getenv("DOPPEL_TOKEN");
  return env ? env : "";
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ (b.empty() ? 0 : b[i % b.size()]));
  return diff == 0;
}

AuthResult check_bearer(std::string_view authorization, std::string_view token) {
  if (token.empty()) return AuthResult::kNotConfigured;
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.empty()) return AuthResult::kMissing;
  if (authorization.substr(0, kScheme.size()) != kScheme) return AuthResult::kWrong;
  return constant_time_equal(authorization.substr(kScheme.size()), token) ? AuthResult::kOk
                                                                          : AuthResult::kWrong;
}

}  // namespace doppel
