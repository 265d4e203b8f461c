#include "util/binary_io.h"

#include "util/error.h"

namespace doppel {

BinaryReader::BinaryReader(const std::filesystem::path& path, std::string_view bytes,
                           std::string_view what)
    : path_(path.string()), bytes_(bytes), what_(what) {}

void BinaryReader::read(void* dst, size_t n, std::string_view field) {
  if (remaining() < n) fail_truncated(field);
  if (n > 0) std::memcpy(dst, bytes_.data() + pos_, n);
  pos_ += n;
}

void BinaryReader::expect_magic(std::string_view magic) {
  std::string found(magic.size(), '\0');
  read(found.data(), found.size(), "magic");
  if (found != magic)
    fail("{}: not a doppel {}: magic is {:?}, expected {:?}", path_, what_, found, magic);
}

void BinaryReader::fail_truncated(std::string_view field) const {
  fail("{}: truncated {}: {} bytes, ends inside {}", path_, what_, bytes_.size(), field);
}

}  // namespace doppel
