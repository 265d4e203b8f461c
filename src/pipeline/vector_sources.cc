#include "pipeline/vector_sources.h"

#include <algorithm>
#include <chrono>
#include <string_view>

#include "image/image_source.h"
#include "util/error.h"
#include "util/files.h"
#include "util/hash.h"

namespace doppel {
namespace fs = std::filesystem;
namespace {

// Hashes a value's bytes, continuing from `state`.
template <typename T>
uint64_t hash_pod(const T& value, uint64_t state) {
  return fnv1a64(std::string_view(reinterpret_cast<const char*>(&value), sizeof(value)), state);
}

// Hashes a length-prefixed piece, so that ("ab", "c") and ("a", "bc") differ.
uint64_t hash_piece(std::string_view bytes, uint64_t state) {
  return fnv1a64(bytes, hash_pod(uint64_t{bytes.size()}, state));
}

uint64_t folder_digest(const fs::path& dir) {
  if (!fs::is_directory(dir)) fail("{}: no model folder there", dir.string());
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  uint64_t state = kFnv1aOffset;
  for (const auto& file : files) {
    state = hash_piece(file.filename().string(), state);
    state = hash_piece(read_file(file), state);
  }
  return state;
}

uint64_t image_file_state(const std::string& ref, uint64_t state) {
  if (ImageFetcher::is_url(ref)) return state;
  std::error_code ec;
  const auto size = fs::file_size(ref, ec);
  if (ec) return hash_piece("missing", state);
  const auto modified = fs::last_write_time(ref, ec).time_since_epoch();
  const int64_t ticks =
      ec ? 0 : std::chrono::duration_cast<std::chrono::nanoseconds>(modified).count();
  return hash_pod(ticks, hash_pod(uint64_t{size}, state));
}

}  // namespace

VectorSources::VectorSources(const Encoder& encoder, const fs::path& model_dir, bool image_files)
    : encoder_(&encoder), model_(folder_digest(model_dir)), image_files_(image_files) {}

uint64_t VectorSources::of(const Listing& listing) const {
  uint64_t state = hash_piece(encoder_->input(listing), model_);
  if (image_files_) state = image_file_state(listing.image, state);
  return state == 0 ? 1 : state;
}

void VectorSources::keep_stale(std::vector<Listing>& listings,
                               const std::unordered_map<int64_t, uint64_t>& stored) const {
  std::erase_if(listings, [&](const Listing& l) {
    const auto it = stored.find(l.key);
    return it != stored.end() && it->second == of(l);
  });
}

}  // namespace doppel
