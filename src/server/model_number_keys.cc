#include "server/model_number_keys.h"

#include <algorithm>

#include "pipeline/candidates.h"

namespace doppel {

void ModelNumberKeys::add(int64_t key, std::string_view model_number) {
  const std::string number = model_number_key(model_number);
  if (!number.empty()) keys_[number].push_back(key);
}

void ModelNumberKeys::remove(int64_t key, std::string_view model_number) {
  auto it = keys_.find(model_number_key(model_number));
  if (it == keys_.end()) return;
  std::erase(it->second, key);
  if (it->second.empty()) keys_.erase(it);
}

std::span<const int64_t> ModelNumberKeys::find(std::string_view model_number) const {
  auto it = keys_.find(model_number_key(model_number));
  if (it == keys_.end() || it->second.size() > max_group_) return {};
  return it->second;
}

}  // namespace doppel
