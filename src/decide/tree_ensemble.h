// TreeEnsemble — a compiled copy of a trained XGBoost binary:logistic model that predicts the same
// scores several times faster than XGBoost's own CPU predictor on the decider's dense rows.
//
// Why: the decider walks hundreds of rounds of trees per pair, and that walk is most of what
// `doppel dedup` and the server's match spend (docs/decisions.md, "The decider's trees are walked
// by a compiled copy"). XGBoost walks one row through one tree at a time, leaving each tree on a
// branch the CPU cannot predict. Here every tree is padded to its depth (a leaf leads to itself
// on both sides), so a block of rows walks a tree level by level with no branch to mispredict,
// and the rows' walks overlap in the CPU.
//
// Where every tree has at most 64 leaves (the decider's depth of 6 ensures it) and the CPU has
// AVX2, rows go through in groups of up to 16 by masks over the trees' leaves instead
// (leaf_masks.h, 2.4x the walk); the walk takes the last one or two rows of a block, deeper trees
// and older CPUs.
//
// Same scores: a split sends a value v left when v < threshold, a missing value (NaN) the way
// the node's default says, exactly as XGBoost does; leaf values are added in tree order to
// the base margin in float, and the logistic is XGBoost's 1 / (1 + exp(-margin)) in float.
// decide_test checks the scores against XGBoost's on trained models, missing values included.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "decide/leaf_masks.h"

namespace doppel {

class TreeEnsemble {
 public:
  // Compiles the JSON form of an XGBoost model (XGBoosterSaveModelToBuffer, format "json").
  // Error when it is not a binary:logistic tree model, has a categorical split, a split that
  // reads a column at or beyond `num_features`, or a tree deeper than 64 levels.
  static TreeEnsemble from_xgboost_json(std::string_view json, int num_features);

  // Match scores of n rows (row-major, num_features floats each, NaN = missing) into out[0, n).
  // Uses up to `threads` threads (0 = all cores) when n is large enough to pay for them.
  // Thread-safe.
  void predict(const float* x, size_t n, float* out, int threads) const;

  size_t num_trees() const { return trees_.size(); }

  // Whether rows go through the leaf masks (16 at a time) rather than the walk.
  bool uses_leaf_masks() const { return leaf_masks_ != nullptr; }

 private:
  struct Node {
    uint32_t child[2];   // [value < threshold, otherwise]; a leaf lists itself twice
    float threshold;     // the leaf's value, for a leaf
    uint16_t feature;    // column the split reads (0 for a leaf)
    uint8_t missing_to;  // the child a missing value takes (0 = left, 1 = right)
    uint8_t padding = 0;
  };
  struct Tree {
    uint32_t root;  // index of its root in nodes_
    uint8_t depth;  // levels from the root to its deepest leaf
  };

  // Adds the trees' leaf values of `rows` rows (at most kBlock) to margin[0, rows), walking
  // each tree level by level.
  void walk_trees(const float* x, size_t rows, float* margin) const;

  int num_features_ = 0;
  float base_margin_ = 0;
  std::vector<Node> nodes_;  // every tree's nodes, tree after tree
  std::vector<Tree> trees_;
  std::shared_ptr<const LeafMasks> leaf_masks_;  // null where the walk scores every row
};

}  // namespace doppel
