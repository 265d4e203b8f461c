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

// write_file_atomic for a file written in pieces, too large to build in memory first: write()
// appends to the temporary file, commit() syncs and renames it over `path`. Destroyed without
// commit() (an error on the way), it removes the temporary file and `path` stays as it was.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::filesystem::path path);  // Error naming the path when it cannot
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(std::string_view bytes);
  void commit();

 private:
  std::filesystem::path path_, tmp_;
  int fd_ = -1;
};

}  // namespace doppel
