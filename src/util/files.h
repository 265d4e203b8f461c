// File helpers shared by every module that persists something.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace doppel {

// Reads a whole file; throws doppel::Error naming the path when it cannot.
std::string read_file(const std::filesystem::path& path);

// Opens `path` for writing from scratch (outputs streamed line by line, such as result CSVs);
// throws doppel::Error naming the path when it cannot be created.
std::ofstream create_file(const std::filesystem::path& path);

// Writes `bytes` to `path` atomically: a temporary file in the same folder, fsync, rename, fsync
// of the folder. A crash leaves either the old file or the new one, never a torn one.
// Crash tests set DOPPEL_CRASH_BEFORE_RENAME=<file name> to die just before the rename.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

}  // namespace doppel
