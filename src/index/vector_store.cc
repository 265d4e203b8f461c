#include "index/vector_store.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/error.h"

namespace doppel {
namespace {

constexpr char kMagic[8] = {'D', 'P', 'L', 'V', 'E', 'C', 'T', 'S'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 32;  // magic, version, dim, count, generation

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t dim;
  uint64_t count;
  uint64_t generation;
};
static_assert(sizeof(Header) == kHeaderBytes);

}  // namespace

VectorStore::VectorStore(int dim) : dim_(dim) {}

VectorStore::~VectorStore() {
  if (map_ != nullptr) ::munmap(map_, map_size_);
  if (scratch_ != nullptr) std::fclose(scratch_);
}

std::unique_ptr<VectorStore> VectorStore::open(const std::filesystem::path& path, int dim) {
  const std::string where = path.string();
  const int fd = ::open(where.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("{}: cannot open the RDisk vectors file: {}", where, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    fail("{}: cannot stat the vectors file: {}", where, std::strerror(errno));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size < kHeaderBytes) {
    ::close(fd);
    fail("{}: truncated vectors file: {} bytes, the header alone is {}", where, size, kHeaderBytes);
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);  // the mapping keeps the file alive
  if (map == MAP_FAILED) fail("{}: mmap failed: {}", where, std::strerror(errno));
  auto store = std::make_unique<VectorStore>(dim);
  store->map_ = map;
  store->map_size_ = size;
  // Re-ranking touches a few scattered rows per query: no read-ahead.
  ::madvise(map, size, MADV_RANDOM);

  Header h;
  std::memcpy(&h, map, sizeof(h));
  if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0) {
    fail("{}: not a doppel vectors file: magic is {:?}, expected \"DPLVECTS\"", where,
         std::string(h.magic, sizeof(h.magic)));
  }
  if (h.version != kVersion) {
    fail("{}: vectors file version {}, this doppel reads {}", where, h.version, kVersion);
  }
  if (h.dim != static_cast<uint32_t>(dim)) {
    fail("{}: vectors file has dim {}, the index has dim {}", where, h.dim, dim);
  }
  const size_t row_bytes = static_cast<size_t>(dim) * sizeof(float);
  if (h.count > (size - kHeaderBytes) / (sizeof(int64_t) + row_bytes) ||
      kHeaderBytes + h.count * (sizeof(int64_t) + row_bytes) != size) {
    fail("{}: truncated or corrupt vectors file: header lists {} rows of dim {}, file has {} bytes",
         where, h.count, dim, size);
  }
  const char* base = static_cast<const char*>(map);
  store->mapped_keys_ = reinterpret_cast<const int64_t*>(base + kHeaderBytes);
  store->mapped_rows_ =
      reinterpret_cast<const float*>(base + kHeaderBytes + h.count * sizeof(int64_t));
  store->mapped_count_ = h.count;
  store->mapped_dead_.assign(h.count, false);
  store->live_ = h.count;
  store->generation_ = h.generation;
  for (size_t i = 0; i < h.count; ++i) {
    const int64_t key = store->mapped_keys_[i];
    if (key < 0 || (i > 0 && key <= store->mapped_keys_[i - 1])) {
      fail("{}: corrupt vectors file: keys are not sorted and non-negative at row {}", where, i);
    }
  }
  return store;
}

size_t VectorStore::heap_bytes() const {
  // unordered_map node + bucket, roughly; the dead bits.
  return mapped_dead_.capacity() / 8 + appended_.size() * 40 + appended_.bucket_count() * 8;
}

int64_t VectorStore::mapped_position(int64_t key) const {
  const int64_t* end = mapped_keys_ + mapped_count_;
  const int64_t* it = std::lower_bound(mapped_keys_, end, key);
  if (it == end || *it != key) return -1;
  const size_t pos = static_cast<size_t>(it - mapped_keys_);
  return mapped_dead_[pos] ? -1 : static_cast<int64_t>(pos);
}

bool VectorStore::contains(int64_t key) const {
  return appended_.contains(key) || mapped_position(key) >= 0;
}

void VectorStore::append(size_t n, const float* x, const int64_t* keys) {
  if (n == 0) return;
  if (scratch_ == nullptr) {
    scratch_ = std::tmpfile();
    if (scratch_ == nullptr)
      fail("RDisk index: cannot create a scratch file: {}", std::strerror(errno));
  }
  const size_t row_bytes = static_cast<size_t>(dim_) * sizeof(float);
  const off_t offset = static_cast<off_t>(scratch_rows_ * row_bytes);
  const size_t bytes = n * row_bytes;
  size_t done = 0;
  while (done < bytes) {
    const ssize_t w = ::pwrite(fileno(scratch_), reinterpret_cast<const char*>(x) + done,
                               bytes - done, offset + static_cast<off_t>(done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail("RDisk index: writing the scratch file failed: {}", std::strerror(errno));
    done += static_cast<size_t>(w);
  }
  for (size_t i = 0; i < n; ++i) appended_[keys[i]] = scratch_rows_ + i;
  scratch_rows_ += n;
  live_ += n;
}

bool VectorStore::remove(int64_t key) {
  if (appended_.erase(key) > 0) {
    --live_;
    return true;
  }
  const int64_t pos = mapped_position(key);
  if (pos < 0) return false;
  mapped_dead_[static_cast<size_t>(pos)] = true;
  --live_;
  return true;
}

const float* VectorStore::row(int64_t key, float* scratch) const {
  if (auto it = appended_.find(key); it != appended_.end()) {
    const size_t row_bytes = static_cast<size_t>(dim_) * sizeof(float);
    const off_t offset = static_cast<off_t>(it->second * row_bytes);
    size_t done = 0;
    while (done < row_bytes) {
      const ssize_t r = ::pread(fileno(scratch_), reinterpret_cast<char*>(scratch) + done,
                                row_bytes - done, offset + static_cast<off_t>(done));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) fail("RDisk index: reading the scratch file failed: {}", std::strerror(errno));
      done += static_cast<size_t>(r);
    }
    return scratch;
  }
  const int64_t pos = mapped_position(key);
  if (pos < 0) return nullptr;
  return mapped_rows_ + static_cast<size_t>(pos) * static_cast<size_t>(dim_);
}

void VectorStore::save(const std::filesystem::path& path, uint64_t generation) const {
  // Live rows by key: the mapped ones are sorted already; merge the sorted appended ones in.
  std::vector<std::pair<int64_t, uint64_t>> added(appended_.begin(), appended_.end());
  std::sort(added.begin(), added.end());
  std::vector<int64_t> keys;
  keys.reserve(live_);
  // Each entry: mapped position (>= 0) or -(scratch row + 1).
  std::vector<int64_t> source;
  source.reserve(live_);
  size_t a = 0;
  for (size_t m = 0; m <= mapped_count_; ++m) {
    const bool have_mapped = m < mapped_count_;
    const int64_t mk = have_mapped ? mapped_keys_[m] : INT64_MAX;
    while (a < added.size() && added[a].first < mk) {
      keys.push_back(added[a].first);
      source.push_back(-static_cast<int64_t>(added[a].second) - 1);
      ++a;
    }
    if (have_mapped && !mapped_dead_[m]) {
      keys.push_back(mk);
      source.push_back(static_cast<int64_t>(m));
    }
  }
  const std::filesystem::path tmp = path.string() + ".tmp";
  std::FILE* out = std::fopen(tmp.c_str(), "wb");
  if (out == nullptr) fail("{}: cannot create: {}", tmp.string(), std::strerror(errno));
  bool ok = true;
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.version = kVersion;
  h.dim = static_cast<uint32_t>(dim_);
  h.count = keys.size();
  h.generation = generation;
  ok = ok && std::fwrite(&h, sizeof(h), 1, out) == 1;
  ok = ok && std::fwrite(keys.data(), sizeof(int64_t), keys.size(), out) == keys.size();
  std::vector<float> buffer(static_cast<size_t>(dim_));
  for (size_t i = 0; ok && i < keys.size(); ++i) {
    const float* r = source[i] >= 0 ? mapped_rows_ + static_cast<size_t>(source[i]) * dim_
                                    : row(keys[i], buffer.data());
    ok = std::fwrite(r, sizeof(float), static_cast<size_t>(dim_), out) == static_cast<size_t>(dim_);
  }
  ok = ok && std::fflush(out) == 0 && ::fsync(fileno(out)) == 0;
  ok = (std::fclose(out) == 0) && ok;
  if (!ok) {
    std::filesystem::remove(tmp);
    fail("{}: writing the vectors file failed: {}", tmp.string(), std::strerror(errno));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) fail("{}: rename to {} failed: {}", tmp.string(), path.string(), ec.message());
}

}  // namespace doppel
