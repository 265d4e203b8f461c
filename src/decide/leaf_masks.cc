#include "decide/leaf_masks.h"

#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace doppel {
namespace {

constexpr int kMaxLeaves = 64;
constexpr int kNarrowLeaves = 32;  // the most leaves a tree of 32-bit masks has

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

// A forest's splits gathered tree by tree, per column, before they are sorted into its lists.
template <class Forest>
struct SplitsByColumn {
  using Split = typename Forest::Split;
  explicit SplitsByColumn(int columns) : all(columns), missing_right(columns) {}
  std::vector<std::vector<Split>> all, missing_right;
};

// Appends a tree to `forest`, given its mask of all leaves and each split's left leaves, and its
// splits to `splits`; returns its place in the forest.
template <class Forest>
uint32_t add_tree(Forest& forest, SplitsByColumn<Forest>& splits, const XgboostTreeArrays& tree,
                  uint64_t leaves, const std::vector<uint64_t>& left_leaves) {
  using Mask = typename decltype(forest.all_leaves)::value_type;
  const auto index = static_cast<uint32_t>(forest.all_leaves.size());
  forest.all_leaves.push_back(static_cast<Mask>(leaves));
  for (size_t n = 0; n < tree.left.size(); ++n) {
    if (tree.left[n] == -1) continue;
    const typename Forest::Split split{tree.thresholds[n], index,
                                       static_cast<Mask>(left_leaves[n])};
    splits.all[tree.features[n]].push_back(split);
    if (!tree.default_left[n]) splits.missing_right[tree.features[n]].push_back(split);
  }
  return index;
}

// Sorts each column's splits by threshold into the forest's lists.
template <class Forest>
void fill_lists(Forest& forest, SplitsByColumn<Forest>& splits) {
  using Split = typename Forest::Split;
  const size_t columns = splits.all.size();
  for (size_t c = 0; c < columns; ++c) {
    auto& column = splits.all[c];
    std::stable_sort(column.begin(), column.end(),
                     [](const Split& a, const Split& b) { return a.threshold < b.threshold; });
    forest.column_begin.push_back(static_cast<uint32_t>(forest.by_threshold.size()));
    forest.by_threshold.insert(forest.by_threshold.end(), column.begin(), column.end());
    forest.by_threshold.push_back({std::numeric_limits<float>::quiet_NaN(), 0, 0});
    forest.missing_begin.push_back(static_cast<uint32_t>(forest.missing_right.size()));
    forest.missing_right.insert(forest.missing_right.end(), splits.missing_right[c].begin(),
                                splits.missing_right[c].end());
  }
  forest.missing_begin.push_back(static_cast<uint32_t>(forest.missing_right.size()));
}

}  // namespace

// The group's values of one column.
struct LeafMasks::Column {
  alignas(32) float values[kRows];
  float highest;  // the largest value present; -inf when every row misses it
  bool any_missing;
};

namespace {

// 32-bit masks: 8 rows a register.
struct NarrowLanes {
  using Mask = uint32_t;
  static constexpr size_t kPerRegister = 8;
  using Values = __m256;
  // The values of kPerRegister rows from v on.
  __attribute__((target("avx2"))) static Values values(const float* v) { return _mm256_load_ps(v); }
  // All ones in the lanes whose value is at or above the threshold (false for NaN).
  __attribute__((target("avx2"))) static __m256i at_or_above(Values v, float threshold) {
    return _mm256_castps_si256(_mm256_cmp_ps(v, _mm256_set1_ps(threshold), _CMP_GE_OQ));
  }
  // All ones in the lanes whose value is missing.
  __attribute__((target("avx2"))) static __m256i missing(Values v) {
    return _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  }
  __attribute__((target("avx2"))) static __m256i broadcast(Mask m) {
    return _mm256_set1_epi32(static_cast<int32_t>(m));
  }
};

// 64-bit masks: 4 rows a register, compared in double (exact for float values and thresholds).
struct WideLanes {
  using Mask = uint64_t;
  static constexpr size_t kPerRegister = 4;
  using Values = __m256d;
  __attribute__((target("avx2"))) static Values values(const float* v) {
    return _mm256_cvtps_pd(_mm_load_ps(v));
  }
  __attribute__((target("avx2"))) static __m256i at_or_above(Values v, float threshold) {
    return _mm256_castpd_si256(_mm256_cmp_pd(v, _mm256_set1_pd(threshold), _CMP_GE_OQ));
  }
  __attribute__((target("avx2"))) static __m256i missing(Values v) {
    return _mm256_castpd_si256(_mm256_cmp_pd(v, v, _CMP_UNORD_Q));
  }
  __attribute__((target("avx2"))) static __m256i broadcast(Mask m) {
    return _mm256_set1_epi64x(static_cast<int64_t>(m));
  }
};

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
  SplitsByColumn<Forest<uint32_t>> narrow_splits(num_features);
  SplitsByColumn<Forest<uint64_t>> wide_splits(num_features);
  for (const XgboostTreeArrays& tree : trees) {
    std::vector<uint64_t> left_leaves(tree.left.size());
    int next = 0;
    const auto leaf_begin = static_cast<uint32_t>(leaf_values_.size());
    const uint64_t leaves = number_leaves(tree, 0, next, leaf_values_, left_leaves);
    const bool wide = next > kNarrowLeaves;
    const uint32_t index = wide ? add_tree(wide_, wide_splits, tree, leaves, left_leaves)
                                : add_tree(narrow_, narrow_splits, tree, leaves, left_leaves);
    trees_.push_back({wide, index, leaf_begin});
  }
  fill_lists(narrow_, narrow_splits);
  fill_lists(wide_, wide_splits);
}

template <class Lanes>
__attribute__((target("avx2"))) void LeafMasks::clear_column(
    const Forest<typename Lanes::Mask>& forest, int c, const Column& column,
    RowMasks<typename Lanes::Mask>* masks) {
  constexpr size_t kRegisters = kRows / Lanes::kPerRegister;
  typename Lanes::Values values[kRegisters];
#pragma GCC unroll 4
  for (size_t g = 0; g < kRegisters; ++g)
    values[g] = Lanes::values(column.values + g * Lanes::kPerRegister);
  // Every split whose threshold some row reaches; the end mark (NaN) compares false.
  for (auto* split = &forest.by_threshold[forest.column_begin[c]];
       split->threshold <= column.highest; ++split) {
    const __m256i leaves = Lanes::broadcast(split->left_leaves);
    auto* tree = reinterpret_cast<__m256i*>(masks[split->tree].row);
#pragma GCC unroll 4  // -O2 leaves this loop rolled, at 1.4x the time
    for (size_t g = 0; g < kRegisters; ++g) {
      // A missing value compares false here (ordered comparison) and is handled below.
      const __m256i right = Lanes::at_or_above(values[g], split->threshold);
      tree[g] = _mm256_andnot_si256(_mm256_and_si256(right, leaves), tree[g]);
    }
  }
  if (!column.any_missing) return;
  __m256i missing_rows[kRegisters];
#pragma GCC unroll 4
  for (size_t g = 0; g < kRegisters; ++g) missing_rows[g] = Lanes::missing(values[g]);
  for (uint32_t s = forest.missing_begin[c]; s < forest.missing_begin[c + 1]; ++s) {
    const auto& split = forest.missing_right[s];
    const __m256i leaves = Lanes::broadcast(split.left_leaves);
    auto* tree = reinterpret_cast<__m256i*>(masks[split.tree].row);
#pragma GCC unroll 4
    for (size_t g = 0; g < kRegisters; ++g)
      tree[g] = _mm256_andnot_si256(_mm256_and_si256(missing_rows[g], leaves), tree[g]);
  }
}

__attribute__((target("avx2"))) void LeafMasks::add_trees(const float* x, size_t rows,
                                                          float* margin, Scratch& scratch) const {
  const auto start = [](const auto& forest, auto& masks) {
    masks.resize(forest.all_leaves.size());
    for (size_t t = 0; t < masks.size(); ++t)
      std::fill_n(masks[t].row, kRows, forest.all_leaves[t]);
  };
  start(narrow_, scratch.narrow);
  start(wide_, scratch.wide);

  for (int c = 0; c < num_features_; ++c) {
    Column column;
    column.highest = -std::numeric_limits<float>::infinity();
    column.any_missing = false;
    for (size_t r = 0; r < kRows; ++r) {
      // A group of fewer rows repeats its last one, which moves no threshold further.
      const float v = x[std::min(r, rows - 1) * num_features_ + c];
      const bool missing = std::isnan(v);
      column.values[r] = v;
      column.any_missing |= missing;
      if (!missing) column.highest = std::max(column.highest, v);
    }
    clear_column<NarrowLanes>(narrow_, c, column, scratch.narrow.data());
    clear_column<WideLanes>(wide_, c, column, scratch.wide.data());
  }

  for (const TreeRef& tree : trees_) {
    const float* leaves = &leaf_values_[tree.leaf_begin];
    const auto add_exit_leaves = [&](const auto* masks) {
      for (size_t r = 0; r < rows; ++r) margin[r] += leaves[std::countr_zero(masks[r])];
    };
    if (tree.wide)
      add_exit_leaves(scratch.wide[tree.index].row);
    else
      add_exit_leaves(scratch.narrow[tree.index].row);
  }
}

}  // namespace doppel
