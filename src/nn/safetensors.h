// Safetensors — the checkpoint format of Hugging Face models (model.safetensors), read and written
// without torch so that any doppel code can inspect a checkpoint. state_dict.h bridges it to
// torch modules.
//
// File layout (https://github.com/huggingface/safetensors, described in docs/safetensors.md):
//   u64 little-endian  N, the header length
//   N bytes            UTF-8 JSON object, padded with spaces to a multiple of 8:
//                      {"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [..],
//                       "data_offsets": [begin, end]}, ...}
//   rest               the data buffer; offsets are relative to its start; tensors are
//                      little-endian and row-major.
//
// Reading maps the file (mmap) and validates all of it up front, as strictly as the reference
// library: the tensors must tile the data buffer exactly (no overlaps, no holes, nothing after the
// last tensor). Writing lays the tensors out as the reference library does (wider dtypes first,
// then by name), so every tensor is aligned to its element size and the bytes are the same as
// Python's safetensors.save_file would write for the same tensors and metadata.
//
// Library split: this file is the target doppel_nn_format (no torch, links in seconds);
// state_dict.h is doppel_nn, which adds the torch bridge and is what model code links.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace doppel::nn {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; doppel reads it in place");

// The element types doppel reads and writes. The format also knows U16/U32/U64 and FP8 types;
// a file that uses them is rejected with a message naming the dtype.
enum class DType { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

// The name in the file: "F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL".
std::string_view dtype_name(DType dtype);
// Bytes per element.
size_t dtype_size(DType dtype);

// One tensor of an open file. `bytes` points into the mapping: valid while the file object lives.
struct TensorRecord {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;  // empty for a 0-d scalar
  std::span<const std::byte> bytes;
};

// A read-only, memory-mapped safetensors file. Big checkpoints are not copied: the kernel pages
// tensors in as they are read.
class SafetensorsFile {
 public:
  // Maps and validates the whole header; throws doppel::Error naming the file (and the tensor)
  // on anything the format does not allow.
  static SafetensorsFile open(const std::filesystem::path& path);

  // Every tensor, in the order of their offsets in the file.
  const std::vector<TensorRecord>& tensors() const { return tensors_; }
  // nullptr when the file has no tensor of that name.
  const TensorRecord* find(std::string_view name) const;
  // The "__metadata__" object (empty when absent), e.g. {"format": "pt"}.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::filesystem::path& path() const { return path_; }

  SafetensorsFile(SafetensorsFile&& other) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&& other) noexcept;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;
  ~SafetensorsFile();  // unmaps

 private:
  SafetensorsFile() = default;

  std::filesystem::path path_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  std::vector<TensorRecord> tensors_;
  std::map<std::string, size_t, std::less<>> index_;  // name -> position in tensors_
  std::map<std::string, std::string> metadata_;
};

// A tensor to write: `bytes` are the little-endian, row-major elements (caller-owned).
struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::span<const std::byte> bytes;
};

// Writes a safetensors file atomically (temporary file, fsync, rename: util/files.h). Throws
// doppel::Error naming the file and the tensor on a duplicate name, the reserved name
// "__metadata__", a negative dimension or bytes that do not match shape × dtype size.
// The whole file is assembled in memory first (one copy of the tensors).
void write_safetensors(const std::filesystem::path& path, std::span<const TensorToWrite> tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace doppel::nn
