#include "util/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "util/error.h"

namespace doppel {
namespace {

// Fault-injection seam for crash tests: when DOPPEL_CRASH_BEFORE_RENAME names this file, the
// process dies like a kill -9 would at the worst moment: new bytes written and synced, old file
// not yet replaced.
void crash_point_for_tests(const std::filesystem::path& path) {
  const char* target = std::getenv("DOPPEL_CRASH_BEFORE_RENAME");
  if (target && path.filename() == target) ::_exit(137);
}

}  // namespace

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open: {}", path.string(), std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) fail("{}: read error", path.string());
  return std::move(buffer).str();
}

std::ofstream create_file(const std::filesystem::path& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail("{}: cannot create: {}", path.string(), std::strerror(errno));
  return out;
}

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
  AtomicFileWriter file(path);
  file.write(bytes);
  file.commit();
}

AtomicFileWriter::AtomicFileWriter(std::filesystem::path path)
    : path_(std::move(path)), tmp_(path_.string() + fmt::format(".tmp.{}", ::getpid())) {
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("{}: cannot create: {}", tmp_.string(), std::strerror(errno));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink(tmp_.c_str());
}

void AtomicFileWriter::write(std::string_view bytes) {
  DOPPEL_CHECK(fd_ >= 0, "{}: written after commit", path_.string());
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd_, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("{}: write failed: {}", tmp_.string(), std::strerror(errno));
    }
    written += static_cast<size_t>(n);
  }
}

void AtomicFileWriter::commit() {
  DOPPEL_CHECK(fd_ >= 0, "{}: committed twice", path_.string());
  const int fd = std::exchange(fd_, -1);
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    fail("{}: fsync/close failed: {}", tmp_.string(), std::strerror(err));
  }
  crash_point_for_tests(path_);
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    fail("{}: rename failed: {}", path_.string(), std::strerror(err));
  }
  auto dir = path_.parent_path().empty() ? std::filesystem::path(".") : path_.parent_path();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace doppel
