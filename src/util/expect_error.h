// Test helpers (gtest only): checks that code rejects bad input with a doppel::Error that says
// what is wrong. expect_load_error is the shared check of every on-disk format's loader.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"
#include "util/files.h"

namespace doppel {

// Runs f and returns the doppel::Error message, or "" (and a test failure) when none is thrown.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a doppel::Error";
  return "";
}

// Runs f and expects a doppel::Error whose message contains every one of `parts`.
template <typename F>
void expect_error(F&& f, const std::vector<std::string>& parts) {
  const std::string message = error_of(f);
  for (const auto& part : parts) EXPECT_THAT(message, ::testing::HasSubstr(part));
}

// Writes `bytes` to `path`, calls load(path) and expects a doppel::Error whose message contains
// both the path and `needle`.
template <typename Load>
void expect_load_error(const std::filesystem::path& path, const std::string& bytes, Load load,
                       std::string_view needle) {
  write_file_atomic(path, bytes);
  expect_error([&] { load(path); }, {path.string(), std::string(needle)});
}

}  // namespace doppel
