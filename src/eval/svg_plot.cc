#include "eval/svg_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace doppel {
namespace {

// Plot geometry shared by both charts: a 0..1 × 0..1 data square mapped into the frame.
constexpr double kWidth = 520, kHeight = 420;
constexpr double kLeft = 64, kRight = 24, kTop = 44, kBottom = 56;
constexpr double kPlotW = kWidth - kLeft - kRight, kPlotH = kHeight - kTop - kBottom;

double px(double x) { return kLeft + std::clamp(x, 0.0, 1.0) * kPlotW; }
double py(double y) { return kTop + (1 - std::clamp(y, 0.0, 1.0)) * kPlotH; }

std::string xml_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string open_svg(std::string_view title) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect x=\"0\" y=\"0\" width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n"
      "<text x=\"{2}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">{3}</text>\n",
      kWidth, kHeight, kWidth / 2, xml_escape(title));
}

// Frame, ticks every 0.2 on both axes with labels, and the axis titles.
std::string axes(std::string_view x_label, std::string_view y_label, bool y_ticks_are_unit) {
  std::string out = fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>\n",
      kLeft, kTop, kPlotW, kPlotH);
  for (int i = 0; i <= 5; ++i) {
    const double v = i / 5.0;
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"black\"/>"
        "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4:.1f}</text>\n",
        px(v), py(0), py(0) + 5, py(0) + 18, v);
    if (y_ticks_are_unit) {
      out += fmt::format(
          "<line x1=\"{0:.1f}\" y1=\"{2:.1f}\" x2=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"black\"/>"
          "<text x=\"{3:.1f}\" y=\"{4:.1f}\" text-anchor=\"end\">{5:.1f}</text>\n",
          px(0) - 5, px(0), py(v), px(0) - 8, py(v) + 4, v);
    }
  }
  out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                     kLeft + kPlotW / 2, kHeight - 14, xml_escape(x_label));
  out += fmt::format(
      "<text x=\"16\" y=\"{0:.1f}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {0:.1f})\">"
      "{1}</text>\n",
      kTop + kPlotH / 2, xml_escape(y_label));
  return out;
}

}  // namespace

std::string pr_curve_svg(std::span<const PrPoint> curve, std::string_view title,
                         std::optional<PrPoint> chosen) {
  std::string out = open_svg(title);
  out += axes("recall", "precision", true);
  out += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"";
  for (size_t i = 0; i < curve.size(); ++i) {
    out +=
        fmt::format("{}{:.2f},{:.2f}", i ? " " : "", px(curve[i].recall), py(curve[i].precision));
  }
  out += "\"/>\n";
  if (chosen) {
    const double x = px(chosen->recall), y = py(chosen->precision);
    out += fmt::format("<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"5\" fill=\"#d62728\"/>\n", x, y);
    // Keep the label inside the plot: put it left of the dot when the dot is on the right half.
    const bool left = chosen->recall > 0.5;
    out += fmt::format(
        "<text x=\"{:.2f}\" y=\"{:.2f}\" text-anchor=\"{}\" fill=\"#d62728\">"
        "t={:.3f}, P={:.3f}, R={:.3f}</text>\n",
        left ? x - 8 : x + 8, std::max(y + 16, kTop + 14.0), left ? "end" : "start",
        chosen->threshold, chosen->precision, chosen->recall);
  }
  out += "</svg>\n";
  return out;
}

std::string histogram_svg(std::span<const float> scores_pos, std::span<const float> scores_neg,
                          float threshold, std::string_view title) {
  constexpr int kBins = 20;
  auto fractions = [](std::span<const float> scores) {
    std::array<double, kBins> bins{};
    for (float s : scores) {
      if (std::isnan(s)) continue;
      const int b = std::clamp(static_cast<int>(std::floor(s * kBins)), 0, kBins - 1);
      bins[b] += 1;
    }
    if (!scores.empty()) {
      for (auto& b : bins) b /= double(scores.size());
    }
    return bins;
  };
  const auto pos = fractions(scores_pos);
  const auto neg = fractions(scores_neg);
  double top = 0;
  for (int b = 0; b < kBins; ++b) top = std::max({top, pos[b], neg[b]});
  if (top <= 0) top = 1;

  std::string out = open_svg(title);
  out += axes("score", "fraction of class", false);
  out += fmt::format(
      "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{:.2f}</text>\n"
      "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">0</text>\n",
      px(0) - 6, py(1) + 4, top, px(0) - 6, py(0) + 4);
  const double bin_w = kPlotW / kBins;
  auto bars = [&](const std::array<double, kBins>& bins, const char* colour, double offset) {
    std::string s;
    for (int b = 0; b < kBins; ++b) {
      if (bins[b] <= 0) continue;
      const double h = bins[b] / top * kPlotH;
      s += fmt::format(
          "<rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" fill=\"{}\" "
          "fill-opacity=\"0.8\"/>\n",
          kLeft + b * bin_w + offset, kTop + kPlotH - h, bin_w / 2, h, colour);
    }
    return s;
  };
  out += bars(neg, "#1f77b4", 0);
  out += bars(pos, "#ff7f0e", bin_w / 2);
  out += fmt::format(
      "<line x1=\"{0:.2f}\" y1=\"{1:.1f}\" x2=\"{0:.2f}\" y2=\"{2:.1f}\" stroke=\"#d62728\" "
      "stroke-dasharray=\"4 3\"/>\n"
      "<text x=\"{0:.2f}\" y=\"{3:.1f}\" text-anchor=\"middle\" fill=\"#d62728\">t={4:.3f}"
      "</text>\n",
      px(threshold), py(0), py(1), kTop - 4, threshold);
  // Legend, top left inside the frame.
  out += fmt::format(
      "<rect x=\"{0:.1f}\" y=\"{1:.1f}\" width=\"12\" height=\"12\" fill=\"#ff7f0e\"/>"
      "<text x=\"{2:.1f}\" y=\"{3:.1f}\">match (n={4})</text>\n"
      "<rect x=\"{0:.1f}\" y=\"{5:.1f}\" width=\"12\" height=\"12\" fill=\"#1f77b4\"/>"
      "<text x=\"{2:.1f}\" y=\"{6:.1f}\">non-match (n={7})</text>\n",
      kLeft + 10, kTop + 10, kLeft + 28, kTop + 20, scores_pos.size(), kTop + 28, kTop + 38,
      scores_neg.size());
  out += "</svg>\n";
  return out;
}

}  // namespace doppel
