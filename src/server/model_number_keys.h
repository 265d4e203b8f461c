// ModelNumberKeys — the stored listings by model-number key (model_number_key in
// pipeline/candidates.h), so that an online match takes the listings that share its model
// number, as `doppel dedup` pairs them. A key shared by more than max_group listings is too
// generic to mean one product and finds none. Not thread-safe: the owner updates it under its
// exclusive lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace doppel {

class ModelNumberKeys {
 public:
  explicit ModelNumberKeys(size_t max_group = 50) : max_group_(max_group) {}

  // A listing with this model number (no-op for one without a key).
  void add(int64_t key, std::string_view model_number);
  // Forgets the listing under the model number it was added with.
  void remove(int64_t key, std::string_view model_number);
  // The listings with this model number's key; empty without a key, or when too many share it.
  std::span<const int64_t> find(std::string_view model_number) const;

 private:
  size_t max_group_;
  std::unordered_map<std::string, std::vector<int64_t>> keys_;
};

}  // namespace doppel
