#include "nn/safetensors.h"

#include <fcntl.h>
#include <fmt/ranges.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "util/error.h"
#include "util/files.h"

namespace doppel::nn {
namespace {

using nlohmann::json;

// The reference reader refuses bigger headers; a length past it means the file is not safetensors.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

constexpr std::array kAllDTypes = {DType::kF64, DType::kF32, DType::kF16, DType::kBF16,
                                   DType::kI64, DType::kI32, DType::kI16, DType::kI8,
                                   DType::kU8,  DType::kBool};

// Position of the dtype in the reference library's Dtype enum, which is in increasing alignment
// order; its writer puts higher ranks first.
int reference_rank(DType dtype) {
  switch (dtype) {
    case DType::kBool:
      return 0;
    case DType::kU8:
      return 1;
    case DType::kI8:
      return 2;
    case DType::kI16:
      return 5;
    case DType::kF16:
      return 7;
    case DType::kBF16:
      return 8;
    case DType::kI32:
      return 9;
    case DType::kF32:
      return 11;
    case DType::kF64:
      return 12;
    case DType::kI64:
      return 13;
  }
  return -1;
}

std::optional<DType> parse_dtype(std::string_view name) {
  for (DType dtype : kAllDTypes) {
    if (dtype_name(dtype) == name) return dtype;
  }
  return std::nullopt;
}

std::string known_dtype_names() {
  std::vector<std::string_view> names;
  for (DType dtype : kAllDTypes) names.push_back(dtype_name(dtype));
  return fmt::format("{}", fmt::join(names, ", "));
}

// product(shape) * element_size, or nullopt on overflow.
std::optional<uint64_t> byte_size(std::span<const int64_t> shape, DType dtype) {
  uint64_t bytes = dtype_size(dtype);
  for (int64_t dim : shape) {
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(dim), &bytes)) return std::nullopt;
  }
  return bytes;
}

std::string shape_string(std::span<const int64_t> shape) {
  return fmt::format("[{}]", fmt::join(shape, ","));
}

// Parses the header text; names the first top-level key that appears twice (JSON parsers keep the
// last one silently, which would hide a damaged or hand-edited header).
json parse_header_json(const std::string& where, std::string_view text) {
  std::set<std::string> seen;
  std::string duplicate;
  const json::parser_callback_t note_duplicates = [&](int depth, json::parse_event_t event,
                                                      json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 && duplicate.empty() &&
        !seen.insert(parsed.get<std::string>()).second) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  json header;
  try {
    header = json::parse(text.begin(), text.end(), note_duplicates);
  } catch (const json::parse_error& e) {
    fail("{}: safetensors header is not valid JSON: {}", where, e.what());
  }
  if (!header.is_object()) fail("{}: safetensors header is not a JSON object", where);
  if (!duplicate.empty())
    fail("{}: \"{}\" appears twice in the safetensors header", where, duplicate);
  return header;
}

std::map<std::string, std::string> parse_metadata(const std::string& where, const json& value) {
  if (!value.is_object()) fail("{}: \"__metadata__\" is not a JSON object", where);
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) {
      fail("{}: \"__metadata__\" value of \"{}\" is {}, not a string", where, key, item.dump());
    }
    metadata.emplace(key, item.get<std::string>());
  }
  return metadata;
}

// Validates one header entry against the data buffer of `buffer_size` bytes at `buffer`.
TensorRecord parse_tensor(const std::string& where, const std::string& name, const json& entry,
                          const std::byte* buffer, uint64_t buffer_size) {
  if (!entry.is_object()) fail("{}: tensor \"{}\": header entry is not a JSON object", where, name);
  const auto field = [&](const char* key) -> const json& {
    const auto it = entry.find(key);
    if (it == entry.end()) fail("{}: tensor \"{}\": no \"{}\" field", where, name, key);
    return *it;
  };

  const json& dtype_json = field("dtype");
  if (!dtype_json.is_string()) {
    fail("{}: tensor \"{}\": dtype is {}, not a string", where, name, dtype_json.dump());
  }
  const auto dtype = parse_dtype(dtype_json.get<std::string>());
  if (!dtype) {
    fail("{}: tensor \"{}\": unknown dtype \"{}\" (doppel reads {})", where, name,
         dtype_json.get<std::string>(), known_dtype_names());
  }

  const json& shape_json = field("shape");
  std::vector<int64_t> shape;
  const auto is_dimension = [](const json& dim) {
    return dim.is_number_unsigned() &&
           dim.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  };
  if (!shape_json.is_array() || !std::all_of(shape_json.begin(), shape_json.end(), is_dimension)) {
    fail("{}: tensor \"{}\": shape must be a list of non-negative integers, found {}", where, name,
         shape_json.dump());
  }
  for (const json& dim : shape_json) shape.push_back(dim.get<int64_t>());

  const json& offsets = field("data_offsets");
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned() || offsets[0].get<uint64_t>() > offsets[1].get<uint64_t>()) {
    fail("{}: tensor \"{}\": data_offsets must be [begin, end] with 0 <= begin <= end, found {}",
         where, name, offsets.dump());
  }
  const uint64_t begin = offsets[0].get<uint64_t>();
  const uint64_t end = offsets[1].get<uint64_t>();
  if (end > buffer_size) {
    fail(
        "{}: tensor \"{}\": data_offsets [{}, {}] end past the {}-byte data buffer (truncated "
        "file?)",
        where, name, begin, end, buffer_size);
  }
  const auto expected = byte_size(shape, *dtype);
  if (!expected || *expected != end - begin) {
    fail("{}: tensor \"{}\": shape {} of {} needs {} bytes, its data_offsets [{}, {}] hold {}",
         where, name, shape_string(shape), dtype_name(*dtype),
         expected ? fmt::to_string(*expected) : std::string("more than 2^64"), begin, end,
         end - begin);
  }
  return TensorRecord{name, *dtype, std::move(shape),
                      std::span<const std::byte>(buffer + begin, end - begin)};
}

// The reference library's rule: sorted by offsets, the tensors tile the data buffer exactly.
void check_tiling(const std::string& where, const std::vector<TensorRecord>& tensors,
                  const std::byte* buffer, uint64_t buffer_size) {
  const auto begin_of = [&](const TensorRecord& t) {
    return static_cast<uint64_t>(t.bytes.data() - buffer);
  };
  uint64_t covered = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorRecord& t = tensors[i];
    const uint64_t begin = begin_of(t);
    if (begin < covered) {
      const TensorRecord& prev = tensors[i - 1];
      fail("{}: tensors \"{}\" [{}, {}) and \"{}\" [{}, {}) overlap", where, prev.name,
           begin_of(prev), covered, t.name, begin, begin + t.bytes.size());
    }
    if (begin > covered) {
      fail(
          "{}: bytes [{}, {}) of the data buffer, before tensor \"{}\", belong to no tensor (the "
          "format allows no holes)",
          where, covered, begin, t.name);
    }
    covered = begin + t.bytes.size();
  }
  if (covered != buffer_size) {
    fail(
        "{}: the tensors cover {} bytes of the {}-byte data buffer (trailing bytes after the last "
        "tensor)",
        where, covered, buffer_size);
  }
}

}  // namespace

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kF64:
      return "F64";
    case DType::kF32:
      return "F32";
    case DType::kF16:
      return "F16";
    case DType::kBF16:
      return "BF16";
    case DType::kI64:
      return "I64";
    case DType::kI32:
      return "I32";
    case DType::kI16:
      return "I16";
    case DType::kI8:
      return "I8";
    case DType::kU8:
      return "U8";
    case DType::kBool:
      return "BOOL";
  }
  return "?";
}

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kF64:
    case DType::kI64:
      return 8;
    case DType::kF32:
    case DType::kI32:
      return 4;
    case DType::kF16:
    case DType::kBF16:
    case DType::kI16:
      return 2;
    case DType::kI8:
    case DType::kU8:
    case DType::kBool:
      return 1;
  }
  return 0;
}

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  const std::string where = path.string();
  const int fd = ::open(where.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("{}: cannot open: {}", where, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail("{}: cannot stat: {}", where, std::strerror(err));
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size < sizeof(uint64_t)) {
    ::close(fd);
    fail("{}: not a safetensors file: {} bytes, shorter than the 8-byte header length", where,
         size);
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int mmap_errno = errno;
  ::close(fd);  // the mapping keeps the file alive
  if (map == MAP_FAILED) fail("{}: mmap failed: {}", where, std::strerror(mmap_errno));

  SafetensorsFile file;  // from here on its destructor unmaps, also when a check below fails
  file.path_ = path;
  file.map_ = map;
  file.map_size_ = size;
  const auto* bytes = static_cast<const std::byte*>(map);

  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes, sizeof(header_size));
  if (header_size > kMaxHeaderBytes) {
    fail("{}: header length {} is over the {}-byte limit: not a safetensors file", where,
         header_size, kMaxHeaderBytes);
  }
  if (header_size > size - sizeof(uint64_t)) {
    fail("{}: header length {} runs past the end of the {}-byte file (truncated file?)", where,
         header_size, size);
  }
  const json header = parse_header_json(
      where,
      std::string_view(reinterpret_cast<const char*>(bytes) + sizeof(uint64_t), header_size));

  const std::byte* buffer = bytes + sizeof(uint64_t) + header_size;
  const uint64_t buffer_size = size - sizeof(uint64_t) - header_size;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      file.metadata_ = parse_metadata(where, entry);
    } else {
      file.tensors_.push_back(parse_tensor(where, name, entry, buffer, buffer_size));
    }
  }
  std::sort(file.tensors_.begin(), file.tensors_.end(),
            [](const TensorRecord& a, const TensorRecord& b) {
              return std::tuple(a.bytes.data(), a.bytes.size(), std::string_view(a.name)) <
                     std::tuple(b.bytes.data(), b.bytes.size(), std::string_view(b.name));
            });
  check_tiling(where, file.tensors_, buffer, buffer_size);
  for (size_t i = 0; i < file.tensors_.size(); ++i) file.index_.emplace(file.tensors_[i].name, i);
  return file;
}

const TensorRecord* SafetensorsFile::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

SafetensorsFile::SafetensorsFile(SafetensorsFile&& other) noexcept
    : path_(std::move(other.path_)),
      map_(std::exchange(other.map_, nullptr)),
      map_size_(std::exchange(other.map_size_, 0)),
      tensors_(std::move(other.tensors_)),
      index_(std::move(other.index_)),
      metadata_(std::move(other.metadata_)) {}

SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& other) noexcept {
  // Swapping hands our old mapping to `other`, whose destructor unmaps it.
  std::swap(path_, other.path_);
  std::swap(map_, other.map_);
  std::swap(map_size_, other.map_size_);
  std::swap(tensors_, other.tensors_);
  std::swap(index_, other.index_);
  std::swap(metadata_, other.metadata_);
  return *this;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_ != nullptr) ::munmap(map_, map_size_);
}

void write_safetensors(const std::filesystem::path& path, std::span<const TensorToWrite> tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::string where = path.string();
  std::set<std::string_view> names;
  std::vector<const TensorToWrite*> order;
  for (const TensorToWrite& t : tensors) {
    if (t.name == "__metadata__") {
      fail("{}: \"__metadata__\" is reserved for metadata and cannot name a tensor", where);
    }
    if (!names.insert(t.name).second) fail("{}: tensor \"{}\" is given twice", where, t.name);
    if (std::any_of(t.shape.begin(), t.shape.end(), [](int64_t dim) { return dim < 0; })) {
      fail("{}: tensor \"{}\": negative dimension in shape {}", where, t.name,
           shape_string(t.shape));
    }
    const auto expected = byte_size(t.shape, t.dtype);
    if (!expected || *expected != t.bytes.size()) {
      fail("{}: tensor \"{}\": shape {} of {} needs {} bytes, got {}", where, t.name,
           shape_string(t.shape), dtype_name(t.dtype),
           expected ? fmt::to_string(*expected) : std::string("more than 2^64"), t.bytes.size());
    }
    order.push_back(&t);
  }
  // The reference layout: wider dtypes first, then by name. With the header padded to 8 bytes,
  // every tensor then starts at a multiple of its element size.
  std::sort(order.begin(), order.end(), [](const TensorToWrite* a, const TensorToWrite* b) {
    return std::tuple(-reference_rank(a->dtype), std::string_view(a->name)) <
           std::tuple(-reference_rank(b->dtype), std::string_view(b->name));
  });

  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const TensorToWrite* t : order) {
    const uint64_t end = offset + t->bytes.size();
    header[t->name] = {
        {"dtype", dtype_name(t->dtype)}, {"shape", t->shape}, {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string header_text;
  try {
    header_text = header.dump();
  } catch (const nlohmann::ordered_json::exception& e) {
    fail("{}: a tensor name or metadata string is not valid UTF-8: {}", where, e.what());
  }
  header_text.append((8 - header_text.size() % 8) % 8, ' ');

  std::string out;
  out.reserve(sizeof(uint64_t) + header_text.size() + offset);
  const uint64_t header_size = header_text.size();
  out.append(reinterpret_cast<const char*>(&header_size), sizeof(header_size));
  out += header_text;
  for (const TensorToWrite* t : order) {
    if (!t->bytes.empty())
      out.append(reinterpret_cast<const char*>(t->bytes.data()), t->bytes.size());
  }
  write_file_atomic(path, out);
}

}  // namespace doppel::nn
