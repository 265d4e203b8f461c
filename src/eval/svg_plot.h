// Small self-contained SVG plots for reports: a precision-recall curve and score histograms by
// class. No external library; the output is a complete standalone SVG document (valid XML, text
// escaped) that a browser or a Markdown viewer shows as is.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "eval/metrics.h"

namespace doppel {

// Recall on x, precision on y, both axes 0..1 with ticks every 0.2 and labels. The curve is one
// <polyline> with one point per PrPoint (in the given order). `chosen`, when set, is marked with a
// dot and a label "t=…, P=…, R=…".
std::string pr_curve_svg(std::span<const PrPoint> curve, std::string_view title,
                         std::optional<PrPoint> chosen);

// Histograms of positive-class and negative-class scores over [0,1] in 20 bins each (scores
// outside are clamped into the end bins), drawn as two colours with a legend and a vertical line
// at `threshold`. Bar heights are fractions of each class, so a small class is still visible.
std::string histogram_svg(std::span<const float> scores_pos, std::span<const float> scores_neg,
                          float threshold, std::string_view title);

}  // namespace doppel
