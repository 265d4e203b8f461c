#include "index/exact_search.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

namespace doppel {

void exact_search(size_t n_base, const float* base, const int64_t* base_keys, int dim, size_t n,
                  const float* queries, int k, float* scores, int64_t* keys) {
  const size_t kk = static_cast<size_t>(k);
  std::vector<std::pair<float, int64_t>> all(n_base);
  for (size_t q = 0; q < n; ++q) {
    const float* query = queries + q * dim;
    for (size_t i = 0; i < n_base; ++i) {
      const float* row = base + i * dim;
      float dot = 0.0f;
      for (int j = 0; j < dim; ++j) dot += query[j] * row[j];
      all[i] = {dot, base_keys[i]};
    }
    const size_t top = std::min(kk, n_base);
    std::partial_sort(all.begin(), all.begin() + top, all.end(), [](const auto& a, const auto& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
    for (size_t r = 0; r < kk; ++r) {
      scores[q * kk + r] = r < top ? all[r].first : -std::numeric_limits<float>::infinity();
      keys[q * kk + r] = r < top ? all[r].second : -1;
    }
  }
}

}  // namespace doppel
