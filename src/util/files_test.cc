#include "util/files.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace doppel {

TEST(Files, AtomicWriteReplacesWholeFile) {
  auto dir = std::filesystem::temp_directory_path() / "doppel_files_test";
  std::filesystem::create_directories(dir);
  auto path = dir / "x.bin";
  write_file_atomic(path, "first version");
  write_file_atomic(path, "second");
  EXPECT_EQ(read_file(path), "second");
  for (auto& entry : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename(), "x.bin") << "temporary file left behind";
  std::filesystem::remove_all(dir);
}

TEST(Files, PiecewiseWriterReplacesOnlyOnCommit) {
  auto dir = std::filesystem::temp_directory_path() / "doppel_files_test_pieces";
  std::filesystem::create_directories(dir);
  auto path = dir / "x.bin";
  write_file_atomic(path, "old");
  {
    AtomicFileWriter file(path);
    file.write("half of ");
    EXPECT_EQ(read_file(path), "old");
  }  // abandoned, as an error on the way would
  EXPECT_EQ(read_file(path), "old");
  {
    AtomicFileWriter file(path);
    file.write("new ");
    file.write("bytes");
    file.commit();
  }
  EXPECT_EQ(read_file(path), "new bytes");
  for (auto& entry : std::filesystem::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename(), "x.bin") << "temporary file left behind";
  std::filesystem::remove_all(dir);
}

TEST(Files, ReadMissingFileNamesThePath) {
  try {
    read_file("/nonexistent/doppel/file.txt");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/doppel/file.txt"), std::string::npos);
  }
}

}  // namespace doppel
