// LeafMasks — a tree ensemble scored by masks over its leaves, 16 rows at a time: QuickScorer
// (Lucchese et al., SIGIR 2015) over four AVX2 registers of rows.
//
// Why: TreeEnsemble's walk visits a node per level per tree per row, and each visit waits on the
// one before it. Here a tree is one 64-bit mask per row, a bit per leaf (left to right), all set
// at first. A split whose test sends a row right rules out its left subtree's leaves, so each
// column's splits are kept in one list by ascending threshold: a row clears the masks of the
// splits whose threshold is at most its value, a prefix of the list, and stops at the first
// above it. The row's exit leaf in each tree is then the lowest bit left (every leaf left of it
// lies in the left subtree of a split on its path that went right). The lists are read in order,
// every split read serves 16 rows, and there is no branch per node. On the 99k catalog's decider
// it scores 2.4x the walk's rows per second (docs/results.md, "Decider trees as leaf masks").
//
// Same scores as the walk: a value goes right when value >= threshold (compared as doubles,
// which is exact for floats), a missing value (NaN) the way its node says, and the leaf values
// are added to the margin in tree order, in float.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace doppel {

// One tree in XGBoost's JSON arrays: node 0 is the root, a leaf has -1 for both children and its
// value in `thresholds`, `default_left` says where a missing value goes.
struct XgboostTreeArrays {
  std::vector<int> left, right, features, default_left;
  std::vector<float> thresholds;
};

class LeafMasks {
 public:
  // Rows scored together: four AVX2 registers of 64-bit masks.
  static constexpr size_t kRows = 16;
  // Fewer rows than this are cheaper to walk: a group costs about the same however few of its
  // rows are real (in the prototype of docs/decisions.md, on the 99k catalog's decider, one row
  // walks in 31 us, two in 58, three in 73; a group takes 56-64).
  static constexpr size_t kFewestRows = 3;

  // One tree's masks for kRows rows, a work area of add_trees.
  struct alignas(32) RowMasks {
    uint64_t row[kRows];
  };
  using Scratch = std::vector<RowMasks>;

  // Whether this CPU can run add_trees (AVX2).
  static bool supported();

  // Whether every tree has at most 64 leaves, one bit each: what the constructor needs.
  static bool fits(const std::vector<XgboostTreeArrays>& trees);
  // The masks of `trees`, which the caller has checked: children inside the tree, columns below
  // num_features, no cycle, and fits().
  LeafMasks(const std::vector<XgboostTreeArrays>& trees, int num_features);

  // Adds the trees' leaf values of `rows` rows (1 to kRows; row-major, num_features floats each,
  // NaN = missing) to margin[0, rows). Needs supported().
  void add_trees(const float* x, size_t rows, float* margin, Scratch& scratch) const;

 private:
  // A split, as the leaves a row that goes right rules out.
  struct Split {
    double threshold;      // NaN marks the end of a column's list
    uint64_t left_leaves;  // the leaves of its left subtree, bit i = the tree's i-th leaf
    uint32_t tree;
  };

  int num_features_;
  std::vector<Split> by_threshold_;      // each column's splits by ascending threshold, then an end
  std::vector<uint32_t> column_begin_;   // where column c's list starts in by_threshold_
  std::vector<Split> missing_right_;     // the splits that send a missing value right, by column
  std::vector<uint32_t> missing_begin_;  // column c's are [missing_begin_[c], missing_begin_[c+1])
  std::vector<uint64_t> all_leaves_;     // per tree, a bit for each of its leaves
  std::vector<uint32_t> leaf_begin_;     // per tree, where its leaves start in leaf_values_
  std::vector<float> leaf_values_;       // every tree's leaf values, left to right, tree by tree
};

}  // namespace doppel
