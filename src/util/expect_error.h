// Test helper (gtest only): the shared check that a loader rejects damaged bytes with a
// doppel::Error naming the file and what is wrong. Used by the tests of every on-disk format.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "util/error.h"
#include "util/files.h"

namespace doppel {

// Writes `bytes` to `path`, calls load(path) and expects a doppel::Error whose message contains
// both the path and `needle`.
template <typename Load>
void expect_load_error(const std::filesystem::path& path, const std::string& bytes, Load load,
                       std::string_view needle) {
  write_file_atomic(path, bytes);
  try {
    load(path);
    ADD_FAILURE() << "expected an error mentioning " << needle;
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  }
}

}  // namespace doppel
