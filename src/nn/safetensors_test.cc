#include "nn/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/expect_error.h"
#include "util/files.h"
#include "util/process_temp_dir.h"

namespace doppel::nn {
namespace {

std::filesystem::path test_file(const std::string& name) {
  return process_temp_dir("doppel_nn_safetensors_test") / name;
}

std::string le64(uint64_t n) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return bytes;
}

// A whole file: length prefix, header text as given (no padding added), data buffer.
std::string file_bytes(const std::string& header, const std::string& buffer = "") {
  return le64(header.size()) + header + buffer;
}

template <typename T>
std::vector<std::byte> bytes_of(std::vector<T> values) {
  std::vector<std::byte> bytes(values.size() * sizeof(T));
  if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

std::string as_string(std::span<const std::byte> bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// Tensors of every dtype, including a 0-d scalar, an empty tensor and raw F16 bytes.
struct Sample {
  std::vector<std::vector<std::byte>> storage;
  std::vector<TensorToWrite> tensors;

  void add(std::string name, DType dtype, std::vector<int64_t> shape,
           std::vector<std::byte> bytes) {
    storage.push_back(std::move(bytes));
    tensors.push_back({std::move(name), dtype, std::move(shape), storage.back()});
  }
};

Sample every_dtype() {
  Sample s;
  s.add("w64", DType::kF64, {2, 3}, bytes_of<double>({1.5, -2, 3, 4, 5, 6e300}));
  s.add("scalar", DType::kF32, {}, bytes_of<float>({3.25f}));
  s.add("empty", DType::kF32, {0, 4}, {});
  // 1.0, -2.0, 65504 (the largest half) as raw F16 bytes.
  s.add("half", DType::kF16, {3}, bytes_of<uint16_t>({0x3c00, 0xc000, 0x7bff}));
  s.add("bf", DType::kBF16, {2}, bytes_of<uint16_t>({0x3f80, 0xc040}));  // 1.0, -3.0
  s.add("ids", DType::kI64, {4}, bytes_of<int64_t>({0, 1, -2, 1LL << 40}));
  s.add("i32", DType::kI32, {1, 2}, bytes_of<int32_t>({-7, 70000}));
  s.add("i16", DType::kI16, {3}, bytes_of<int16_t>({-1, 2, 300}));
  s.add("i8", DType::kI8, {2}, bytes_of<int8_t>({-128, 127}));
  s.add("u8", DType::kU8, {5}, bytes_of<uint8_t>({0, 1, 2, 254, 255}));
  s.add("mask", DType::kBool, {2, 2}, bytes_of<uint8_t>({1, 0, 0, 1}));
  return s;
}

const std::map<std::string, std::string> kMetadata = {{"format", "pt"}, {"note", "x y"}};

// What Python's safetensors.torch.save_file({"a": torch.tensor([1.0, 2.0])}, path) writes: the
// length 0x38 = 56, the 54-byte header padded with two spaces, then 1.0f and 2.0f.
const std::string kReferenceFile = std::string("\x38\0\0\0\0\0\0\0", 8) +
                                   R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})"
                                   "  " +
                                   std::string("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);

TEST(Safetensors, WritesTheReferenceLayoutByteForByte) {
  const auto data = bytes_of<float>({1.0f, 2.0f});
  const std::vector<TensorToWrite> tensors = {{"a", DType::kF32, {2}, data}};
  const auto path = test_file("reference.safetensors");
  write_safetensors(path, tensors);
  EXPECT_EQ(read_file(path), kReferenceFile);

  // Metadata comes first; this header is exactly 32 bytes, so no padding.
  write_safetensors(path, {}, {{"format", "pt"}});
  EXPECT_EQ(read_file(path),
            std::string("\x20\0\0\0\0\0\0\0", 8) + R"({"__metadata__":{"format":"pt"}})");
  // No tensors, no metadata: "{}" and six spaces.
  write_safetensors(path, {});
  EXPECT_EQ(read_file(path), std::string("\x08\0\0\0\0\0\0\0", 8) + "{}      ");
}

TEST(Safetensors, ReadsTheReferenceFile) {
  const auto path = test_file("hand.safetensors");
  write_file_atomic(path, kReferenceFile);
  const SafetensorsFile file = SafetensorsFile::open(path);
  ASSERT_EQ(file.tensors().size(), 1u);
  const TensorRecord* a = file.find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dtype, DType::kF32);
  EXPECT_EQ(a->shape, std::vector<int64_t>{2});
  float values[2];
  ASSERT_EQ(a->bytes.size(), sizeof(values));
  std::memcpy(values, a->bytes.data(), sizeof(values));
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(values[1], 2.0f);
  EXPECT_TRUE(file.metadata().empty());
  EXPECT_EQ(file.find("b"), nullptr);
  EXPECT_EQ(file.path(), path);
}

TEST(Safetensors, RoundTripsEveryDTypeAndShape) {
  const Sample sample = every_dtype();
  const auto path = test_file("roundtrip.safetensors");
  write_safetensors(path, sample.tensors, kMetadata);
  const SafetensorsFile file = SafetensorsFile::open(path);
  EXPECT_EQ(file.metadata(), kMetadata);
  ASSERT_EQ(file.tensors().size(), sample.tensors.size());
  for (const TensorToWrite& t : sample.tensors) {
    SCOPED_TRACE(t.name);
    const TensorRecord* r = file.find(t.name);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->name, t.name);
    EXPECT_EQ(r->dtype, t.dtype);
    EXPECT_EQ(r->shape, t.shape);
    EXPECT_EQ(as_string(r->bytes), as_string(t.bytes));
    // The reference layout aligns every tensor to its element size (the mapping is page-aligned).
    EXPECT_EQ(reinterpret_cast<uintptr_t>(r->bytes.data()) % dtype_size(r->dtype), 0u);
  }
  // File order: wider dtypes first (the reference library's dtype order), then by name.
  std::vector<std::string> order;
  for (const TensorRecord& r : file.tensors()) order.push_back(r.name);
  EXPECT_EQ(order, (std::vector<std::string>{"ids", "w64", "empty", "scalar", "i32", "bf", "half",
                                             "i16", "i8", "u8", "mask"}));
}

TEST(Safetensors, WrittenFileFollowsTheSpec) {
  const Sample sample = every_dtype();
  const auto path = test_file("spec.safetensors");
  write_safetensors(path, sample.tensors, kMetadata);

  // Parsed here without SafetensorsFile: u64 length, JSON header, then the buffer.
  const std::string bytes = read_file(path);
  ASSERT_GE(bytes.size(), 8u);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ(n % 8, 0u);
  ASSERT_LE(8 + n, bytes.size());
  const std::string header_text = bytes.substr(8, n);
  EXPECT_EQ(header_text.find_first_not_of(' ', header_text.rfind('}') + 1), std::string::npos)
      << "padding is spaces only";
  const auto header = nlohmann::json::parse(header_text);
  EXPECT_EQ(header.at("__metadata__"), nlohmann::json(kMetadata));
  const std::string buffer = bytes.substr(8 + n);
  uint64_t total = 0;
  for (const TensorToWrite& t : sample.tensors) {
    SCOPED_TRACE(t.name);
    const auto& entry = header.at(t.name);
    EXPECT_EQ(entry.at("dtype"), dtype_name(t.dtype));
    EXPECT_EQ(entry.at("shape").get<std::vector<int64_t>>(), t.shape);
    const auto offsets = entry.at("data_offsets").get<std::vector<uint64_t>>();
    ASSERT_EQ(offsets.size(), 2u);
    EXPECT_EQ(buffer.substr(offsets[0], offsets[1] - offsets[0]), as_string(t.bytes));
    total += offsets[1] - offsets[0];
  }
  EXPECT_EQ(header.size(), sample.tensors.size() + 1);
  EXPECT_EQ(total, buffer.size()) << "tensors must cover the buffer exactly";
}

TEST(Safetensors, HeaderIsPaddedForEveryNameLength) {
  const auto data = bytes_of<float>({1.0f});
  for (size_t length = 1; length <= 9; ++length) {
    const std::vector<TensorToWrite> tensors = {{std::string(length, 'n'), DType::kF32, {1}, data}};
    const auto path = test_file("pad.safetensors");
    write_safetensors(path, tensors);
    const std::string bytes = read_file(path);
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    EXPECT_EQ(n % 8, 0u) << length;
    EXPECT_EQ(SafetensorsFile::open(path).tensors().at(0).bytes.size(), 4u);
  }
}

TEST(Safetensors, MovedFileKeepsItsMapping) {
  const Sample sample = every_dtype();
  const auto path = test_file("move.safetensors");
  write_safetensors(path, sample.tensors);
  SafetensorsFile first = SafetensorsFile::open(path);
  SafetensorsFile second = std::move(first);
  EXPECT_EQ(as_string(second.find("ids")->bytes), as_string(sample.tensors[5].bytes));
  const auto other_path = test_file("other.safetensors");
  write_safetensors(other_path, {});
  SafetensorsFile other = SafetensorsFile::open(other_path);
  other = std::move(second);
  EXPECT_EQ(other.path(), path);
  EXPECT_EQ(as_string(other.find("u8")->bytes), as_string(sample.tensors[9].bytes));
}

TEST(Safetensors, RejectsDamagedFiles) {
  const auto path = test_file("bad.safetensors");
  const auto expect_error = [&](const std::string& bytes, std::string_view needle) {
    SCOPED_TRACE(needle);
    expect_load_error(
        path, bytes, [](const auto& p) { SafetensorsFile::open(p); }, needle);
  };
  const std::string eight(8, '\0');
  const auto tensor = [](const std::string& name, const std::string& body) {
    return "\"" + name + "\":" + body;
  };
  const std::string good_a = tensor("a", R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})");

  expect_error("abc", "shorter than the 8-byte header length");
  expect_error(le64(200'000'000) + "{}", "over the 100000000-byte limit");
  expect_error(le64(100) + "{}", "runs past the end");
  expect_error(file_bytes("{abc"), "not valid JSON");
  expect_error(file_bytes("{\"\xff\":1}"), "not valid JSON");  // not UTF-8
  expect_error(file_bytes("[1,2]"), "not a JSON object");
  expect_error(file_bytes("{" + tensor("a", "1") + "}"), "tensor \"a\": header entry is not");
  expect_error(file_bytes("{" + tensor("a", R"({"shape":[2],"data_offsets":[0,8]})") + "}", eight),
               "tensor \"a\": no \"dtype\" field");
  expect_error(
      file_bytes("{" + tensor("a", R"({"dtype":"F31","shape":[2],"data_offsets":[0,8]})") + "}",
                 eight),
      "tensor \"a\": unknown dtype \"F31\"");
  expect_error(
      file_bytes("{" + tensor("a", R"({"dtype":"U16","shape":[4],"data_offsets":[0,8]})") + "}",
                 eight),
      "unknown dtype \"U16\"");
  for (const char* shape : {"[-2]", "[\"2\"]", "[2.0]", "2", "{}"}) {
    expect_error(file_bytes("{" +
                                tensor("a", std::string(R"({"dtype":"F32","shape":)") + shape +
                                                R"(,"data_offsets":[0,8]})") +
                                "}",
                            eight),
                 "tensor \"a\": shape must be a list of non-negative integers");
  }
  for (const char* offsets : {"[8,0]", "[0]", "[0,8,8]", "[-1,8]", "\"0,8\""}) {
    expect_error(
        file_bytes("{" +
                       tensor("a", std::string(R"({"dtype":"F32","shape":[2],"data_offsets":)") +
                                       offsets + "}") +
                       "}",
                   eight),
        "tensor \"a\": data_offsets must be [begin, end]");
  }
  expect_error(file_bytes("{" + good_a + "}", std::string(4, '\0')),
               "tensor \"a\": data_offsets [0, 8] end past the 4-byte data buffer");
  expect_error(
      file_bytes("{" + tensor("a", R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})") + "}",
                 eight),
      "tensor \"a\": shape [3] of F32 needs 12 bytes, its data_offsets [0, 8] hold 8");
  expect_error(file_bytes("{" +
                              tensor("a", R"({"dtype":"F64","shape":[4294967296,4294967296],)"
                                          R"("data_offsets":[0,8]})") +
                              "}",
                          eight),
               "needs more than 2^64 bytes");
  expect_error(
      file_bytes("{" + good_a + "," +
                     tensor("b", R"({"dtype":"F32","shape":[2],"data_offsets":[4,12]})") + "}",
                 std::string(12, '\0')),
      "tensors \"a\" [0, 8) and \"b\" [4, 12) overlap");
  expect_error(
      file_bytes("{" + tensor("a", R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})") + "," +
                     tensor("b", R"({"dtype":"F32","shape":[1],"data_offsets":[8,12]})") + "}",
                 std::string(12, '\0')),
      "bytes [4, 8) of the data buffer, before tensor \"b\", belong to no tensor");
  expect_error(file_bytes("{" + good_a + "}", std::string(12, '\0')),
               "the tensors cover 8 bytes of the 12-byte data buffer");
  expect_error(file_bytes("{" + good_a + "," + good_a + "}", eight), "\"a\" appears twice");
  expect_error(file_bytes(R"({"__metadata__":{"format":1}})"),
               "\"__metadata__\" value of \"format\" is 1, not a string");
  expect_error(file_bytes(R"({"__metadata__":"pt"})"), "\"__metadata__\" is not a JSON object");
}

TEST(Safetensors, MissingFileIsAnError) {
  const auto path = test_file("absent.safetensors");
  std::filesystem::remove(path);
  try {
    SafetensorsFile::open(path);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string() + ": cannot open"), std::string::npos)
        << e.what();
  }
}

TEST(Safetensors, WriteRejectsBadTensors) {
  const auto path = test_file("bad_write.safetensors");
  const auto four = bytes_of<float>({1.0f});
  const auto expect_error = [&](const std::vector<TensorToWrite>& tensors,
                                std::string_view needle) {
    SCOPED_TRACE(needle);
    std::filesystem::remove(path);
    try {
      write_safetensors(path, tensors);
      ADD_FAILURE() << "expected an error mentioning " << needle;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path.string()), std::string::npos) << msg;
      EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    }
    EXPECT_FALSE(std::filesystem::exists(path));
  };
  expect_error({{"a", DType::kF32, {1}, four}, {"a", DType::kF32, {1}, four}},
               "tensor \"a\" is given twice");
  expect_error({{"a", DType::kF32, {2}, four}},
               "tensor \"a\": shape [2] of F32 needs 8 bytes, got 4");
  expect_error({{"a", DType::kF16, {}, four}},
               "tensor \"a\": shape [] of F16 needs 2 bytes, got 4");
  expect_error({{"a", DType::kF32, {-1}, four}}, "tensor \"a\": negative dimension in shape [-1]");
  expect_error({{"__metadata__", DType::kF32, {1}, four}}, "\"__metadata__\" is reserved");
  expect_error({{"bad\xff", DType::kF32, {1}, four}}, "not valid UTF-8");
}

}  // namespace
}  // namespace doppel::nn
