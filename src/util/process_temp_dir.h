// process_temp_dir — a temporary folder for a test process's files, removed when the process
// exits (test helper only).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace doppel {

// <temp>/<prefix>_<pid>, created on the first call, removed at exit.
inline const std::filesystem::path& process_temp_dir(const std::string& prefix) {
  struct Dir {
    std::filesystem::path path;
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir{[&] {
    auto path =
        std::filesystem::temp_directory_path() / (prefix + "_" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    return path;
  }()};
  return dir.path;
}

}  // namespace doppel
