// IsotonicCalibration — turns a classifier's raw scores into calibrated match probabilities: a
// monotone map fitted on held-out predictions (the valid split, or out-of-fold predictions) by
// pool-adjacent-violators, so that among pairs given confidence c about a fraction c are true
// matches. Between the fitted blocks the map interpolates linearly (block centre to block
// centre), so that distinct scores mostly keep their order and a threshold still has scores to
// separate; outside the fitted range it is flat.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace doppel {

class IsotonicCalibration {
 public:
  IsotonicCalibration() = default;  // the identity
  // Error when the inputs differ in length or are empty.
  static IsotonicCalibration fit(std::span<const float> scores, std::span<const uint8_t> labels);
  // From stored knots: scores strictly increasing, probabilities non-decreasing in [0, 1], equal
  // lengths; Error naming what is wrong otherwise. Empty knots give the identity.
  static IsotonicCalibration from_knots(std::vector<float> scores,
                                        std::vector<float> probabilities);

  float apply(float score) const;
  void apply(std::span<float> scores) const;
  bool identity() const { return knot_scores_.empty(); }
  const std::vector<float>& knot_scores() const { return knot_scores_; }
  const std::vector<float>& knot_probabilities() const { return knot_probabilities_; }

 private:
  std::vector<float> knot_scores_;         // mean raw score of each block, increasing
  std::vector<float> knot_probabilities_;  // share of matches in each block, increasing
};

}  // namespace doppel
