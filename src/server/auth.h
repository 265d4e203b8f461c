// Bearer-token authentication of the mutating routes. The token comes from a file (its first
// line) or the DOPPEL_TOKEN environment variable; it is never logged, and requests are compared
// against it in constant time so that response timing does not reveal how much of a guess was
// right.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace doppel {

// The token from `token_file` when given (Error naming the file when it cannot be read or its
// first line is empty), else from $DOPPEL_TOKEN, else "" (no token: mutating routes refused).
std::string load_token(const std::filesystem::path& token_file);

// True when `a` equals `b`; the time taken depends only on the lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

enum class AuthResult { kOk, kMissing, kWrong, kNotConfigured };

// Checks an Authorization header value against `token` ("Bearer <token>").
AuthResult check_bearer(std::string_view authorization, std::string_view token);

}  // namespace doppel
