// HttpError — a doppel::Error that knows its HTTP status (404 unknown id, 413 too large, ...).
// Route handlers throw it; any other doppel::Error is a 400 (the request was wrong).
#pragma once

#include <fmt/format.h>

#include "util/error.h"

namespace doppel {

class HttpError : public Error {
 public:
  HttpError(int status, const std::string& what) : Error(what), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

template <typename... Args>
[[noreturn]] void fail_http(int status, fmt::format_string<Args...> format, Args&&... args) {
  throw HttpError(status, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace doppel
