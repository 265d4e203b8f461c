// LeafMasks — a tree ensemble scored by masks over its leaves, 16 rows at a time: QuickScorer
// (Lucchese et al., SIGIR 2015) over AVX2 registers of rows.
//
// Why: TreeEnsemble's walk visits a node per level per tree per row, and each visit waits on the
// one before it. Here a tree is one mask per row, a bit per leaf (left to right), all set at
// first. A split whose test sends a row right rules out its left subtree's leaves, so each
// column's splits are kept in one list by ascending threshold: a row clears the masks of the
// splits whose threshold is at most its value, a prefix of the list, and stops at the first
// above it. The row's exit leaf in each tree is then the lowest bit left (every leaf left of it
// lies in the left subtree of a split on its path that went right). The lists are read in order,
// every split read serves 16 rows, and there is no branch per node. On the 99k catalog's decider
// it scores 2.4x the walk's rows per second (docs/results.md, "Decider trees as leaf masks").
//
// A tree of up to 32 leaves (two thirds of the 99k decider's trees) keeps 32-bit masks, its 16
// rows in two registers and one cache line; a tree of 33 to 64 leaves keeps 64-bit masks in four.
// Each kind has its own split lists, so neither loop branches on the kind.
//
// Same scores as the walk: a value goes right when value >= threshold (in float, or in double for
// the 64-bit masks, which is the same for floats), a missing value (NaN) the way its node says,
// and the leaf values are added to the margin in tree order, in float.
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
  // Rows scored together.
  static constexpr size_t kRows = 16;
  // Fewer rows than this are cheaper to walk: a group costs about the same however few of its
  // rows are real (in the prototype of docs/decisions.md, on the 99k catalog's decider, one row
  // walks in 31 us, two in 58, three in 73; a group takes 56-64).
  static constexpr size_t kFewestRows = 3;

  // One tree's masks for kRows rows.
  template <class Mask>
  struct alignas(64) RowMasks {
    Mask row[kRows];
  };
  // The work area of add_trees: the masks of every tree, by kind.
  struct Scratch {
    std::vector<RowMasks<uint32_t>> narrow;
    std::vector<RowMasks<uint64_t>> wide;
  };

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
  // The trees of the ensemble whose leaves fit in Mask: their splits by column and threshold.
  template <class Mask>
  struct Forest {
    // A split, as the leaves a row that goes right rules out.
    struct Split {
      float threshold;   // NaN marks the end of a column's list
      uint32_t tree;     // the tree's place in this forest
      Mask left_leaves;  // the leaves of its left subtree, bit i = the tree's i-th leaf
    };
    std::vector<Split> by_threshold;     // each column's splits by ascending threshold, then an end
    std::vector<uint32_t> column_begin;  // where column c's list starts in by_threshold
    std::vector<Split> missing_right;    // the splits that send a missing value right, by column
    std::vector<uint32_t> missing_begin;  // column c's are [missing_begin[c], missing_begin[c+1])
    std::vector<Mask> all_leaves;         // per tree, a bit for each of its leaves
  };
  // One column's values for a group of rows, in the forms the two kinds of masks compare.
  struct Column;
  // Clears in `masks` the leaves that the group's values of column c rule out, for the trees of
  // one forest; Lanes says how its masks sit in registers.
  template <class Lanes>
  static void clear_column(const Forest<typename Lanes::Mask>& forest, int c, const Column& column,
                           RowMasks<typename Lanes::Mask>* masks);

  // A tree of the ensemble, in its order: which forest holds it, where, and its leaf values.
  struct TreeRef {
    bool wide;            // in wide_ (64-bit masks), else in narrow_
    uint32_t index;       // its place in that forest
    uint32_t leaf_begin;  // where its leaves start in leaf_values_
  };

  int num_features_;
  Forest<uint32_t> narrow_;  // trees of up to 32 leaves
  Forest<uint64_t> wide_;    // trees of 33 to 64 leaves
  std::vector<TreeRef> trees_;
  std::vector<float> leaf_values_;  // every tree's leaf values, left to right, tree by tree
};

}  // namespace doppel
