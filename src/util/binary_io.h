// Little-endian POD serialisation shared by doppel's on-disk formats (index, PCA, TF-IDF files).
// Writers append fixed-size fields to a byte string; BinaryReader reads them back in order and,
// instead of reading past the end, throws doppel::Error naming the file and the field it was in.
// Fields are stored in host byte order, which the static_assert below pins to little-endian.
#pragma once

#include <bit>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <type_traits>

namespace doppel {

static_assert(std::endian::native == std::endian::little,
              "doppel file formats are little-endian; a big-endian build needs byte swapping here");

// Appends n raw bytes from p to out.
inline void append_bytes(std::string& out, const void* p, size_t n) {
  out.append(static_cast<const char*>(p), n);
}

// Appends the in-memory bytes of one trivially copyable value (an integer, a float, a POD struct).
template <typename T>
void append_pod(std::string& out, T v) {
  static_assert(std::is_trivially_copyable_v<T>, "append_pod needs a trivially copyable type");
  append_bytes(out, &v, sizeof(T));
}

// Reads fields in order from the bytes of one file. It does not own the bytes: they must outlive
// the reader. A read that would run past the end throws doppel::Error
//   "PATH: truncated WHAT: N bytes, ends inside FIELD"
// where WHAT names the kind of file ("index file") and FIELD the field being read.
class BinaryReader {
 public:
  BinaryReader(const std::filesystem::path& path, std::string_view bytes, std::string_view what);
  // A temporary string would die before the reads: keep the bytes in a variable.
  BinaryReader(const std::filesystem::path& path, std::string&& bytes,
               std::string_view what) = delete;

  // Copies the next n bytes to dst.
  void read(void* dst, size_t n, std::string_view field);

  // Reads magic.size() bytes; unless they equal `magic`, throws doppel::Error
  //   "PATH: not a doppel WHAT: magic is "...", expected "...""
  void expect_magic(std::string_view magic);

  template <typename T>
  T get(std::string_view field) {
    static_assert(std::is_trivially_copyable_v<T>,
                  "BinaryReader::get needs a trivially copyable type");
    T v;
    read(&v, sizeof(T), field);
    return v;
  }

  size_t pos() const { return pos_; }                            // bytes read so far
  size_t remaining() const { return bytes_.size() - pos_; }      // bytes not yet read
  std::string_view rest() const { return bytes_.substr(pos_); }  // the unread bytes

 private:
  [[noreturn]] void fail_truncated(std::string_view field) const;

  std::string path_;
  std::string_view bytes_;
  std::string what_;
  size_t pos_ = 0;
};

}  // namespace doppel
