#include "decide/leaf_masks.h"

#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace doppel {
namespace {

constexpr int kMaxLeaves = 64;

int count_leaves(const XgboostTreeArrays& tree) {
  return static_cast<int>(std::count(tree.left.begin(), tree.left.end(), -1));
}

// Numbers the leaves under `node` left to right from `next` on, appending their values, and
// returns the mask of those leaves. `left_leaves[n]` gets, for each split n below `node`, the mask
// of its left subtree's leaves.
uint64_t number_leaves(const XgboostTreeArrays& tree, int node, int& next,
                       std::vector<float>& values, std::vector<uint64_t>& left_leaves) {
  if (tree.left[node] == -1) {
    values.push_back(tree.thresholds[node]);
    return uint64_t{1} << next++;
  }
  left_leaves[node] = number_leaves(tree, tree.left[node], next, values, left_leaves);
  return left_leaves[node] | number_leaves(tree, tree.right[node], next, values, left_leaves);
}

}  // namespace

bool LeafMasks::supported() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

bool LeafMasks::fits(const std::vector<XgboostTreeArrays>& trees) {
  return std::all_of(trees.begin(), trees.end(),
                     [](const auto& tree) { return count_leaves(tree) <= kMaxLeaves; });
}

LeafMasks::LeafMasks(const std::vector<XgboostTreeArrays>& trees, int num_features)
    : num_features_(num_features) {
  std::vector<std::vector<Split>> by_column(num_features), missing_by_column(num_features);
  for (uint32_t t = 0; t < trees.size(); ++t) {
    const XgboostTreeArrays& tree = trees[t];
    std::vector<uint64_t> left_leaves(tree.left.size());
    int next = 0;
    leaf_begin_.push_back(static_cast<uint32_t>(leaf_values_.size()));
    all_leaves_.push_back(number_leaves(tree, 0, next, leaf_values_, left_leaves));
    for (size_t n = 0; n < tree.left.size(); ++n) {
      if (tree.left[n] == -1) continue;
      const Split split{tree.thresholds[n], left_leaves[n], t};
      by_column[tree.features[n]].push_back(split);
      if (!tree.default_left[n]) missing_by_column[tree.features[n]].push_back(split);
    }
  }
  for (int c = 0; c < num_features; ++c) {
    auto& splits = by_column[c];
    std::stable_sort(splits.begin(), splits.end(),
                     [](const Split& a, const Split& b) { return a.threshold < b.threshold; });
    column_begin_.push_back(static_cast<uint32_t>(by_threshold_.size()));
    by_threshold_.insert(by_threshold_.end(), splits.begin(), splits.end());
    by_threshold_.push_back({std::numeric_limits<double>::quiet_NaN(), 0, 0});
    missing_begin_.push_back(static_cast<uint32_t>(missing_right_.size()));
    missing_right_.insert(missing_right_.end(), missing_by_column[c].begin(),
                          missing_by_column[c].end());
  }
  missing_begin_.push_back(static_cast<uint32_t>(missing_right_.size()));
}

__attribute__((target("avx2"))) void LeafMasks::add_trees(const float* x, size_t rows,
                                                          float* margin, Scratch& scratch) const {
  constexpr size_t kRegisters = kRows / 4;
  const size_t trees = all_leaves_.size();
  scratch.resize(trees);
  for (size_t t = 0; t < trees; ++t) std::fill_n(scratch[t].row, kRows, all_leaves_[t]);
  const auto masks_of = [&](uint32_t tree) {
    return reinterpret_cast<__m256i*>(scratch[tree].row);
  };

  for (int c = 0; c < num_features_; ++c) {
    alignas(32) double value[kRows];
    alignas(32) int64_t missing[kRows];
    double highest = -std::numeric_limits<double>::infinity();
    bool any_missing = false;
    for (size_t r = 0; r < kRows; ++r) {
      // A group of fewer rows repeats its last one, which moves no threshold further.
      const float v = x[std::min(r, rows - 1) * num_features_ + c];
      value[r] = v;
      missing[r] = std::isnan(v) ? -1 : 0;
      any_missing |= std::isnan(v);
      if (!std::isnan(v)) highest = std::max(highest, value[r]);
    }
    __m256d values[kRegisters];
#pragma GCC unroll 4
    for (size_t g = 0; g < kRegisters; ++g) values[g] = _mm256_load_pd(value + 4 * g);
    // Every split whose threshold some row reaches; the end mark (NaN) compares false.
    for (const Split* split = &by_threshold_[column_begin_[c]]; split->threshold <= highest;
         ++split) {
      const __m256d threshold = _mm256_set1_pd(split->threshold);
      const __m256i leaves = _mm256_set1_epi64x(static_cast<int64_t>(split->left_leaves));
      __m256i* masks = masks_of(split->tree);
#pragma GCC unroll 4  // -O2 leaves this loop rolled, at 1.4x the time
      for (size_t g = 0; g < kRegisters; ++g) {
        // A missing value compares false here (ordered comparison) and is handled below.
        const __m256i right = _mm256_castpd_si256(_mm256_cmp_pd(values[g], threshold, _CMP_GE_OQ));
        masks[g] = _mm256_andnot_si256(_mm256_and_si256(right, leaves), masks[g]);
      }
    }
    if (!any_missing) continue;
    __m256i missing_rows[kRegisters];
#pragma GCC unroll 4
    for (size_t g = 0; g < kRegisters; ++g)
      missing_rows[g] = _mm256_load_si256(reinterpret_cast<const __m256i*>(missing + 4 * g));
    for (uint32_t s = missing_begin_[c]; s < missing_begin_[c + 1]; ++s) {
      const __m256i leaves =
          _mm256_set1_epi64x(static_cast<int64_t>(missing_right_[s].left_leaves));
      __m256i* masks = masks_of(missing_right_[s].tree);
#pragma GCC unroll 4
      for (size_t g = 0; g < kRegisters; ++g)
        masks[g] = _mm256_andnot_si256(_mm256_and_si256(missing_rows[g], leaves), masks[g]);
    }
  }

  for (size_t t = 0; t < trees; ++t) {
    const float* leaves = &leaf_values_[leaf_begin_[t]];
    for (size_t r = 0; r < rows; ++r) margin[r] += leaves[std::countr_zero(scratch[t].row[r])];
  }
}

}  // namespace doppel
