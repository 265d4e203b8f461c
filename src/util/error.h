// doppel::Error — the one exception type for errors a user can cause (bad file, bad request,
// missing model). Its message always says where: a file and line, a field, an id.
// Programming errors use assert/DOPPEL_CHECK instead.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace doppel {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Throws doppel::Error with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace doppel

// Precondition check that names the failing expression and the values involved.
#define DOPPEL_CHECK(cond, ...)                                                    \
  do {                                                                             \
    if (!(cond)) ::doppel::fail("check failed: {}: {}", #cond, fmt::format(__VA_ARGS__)); \
  } while (0)
