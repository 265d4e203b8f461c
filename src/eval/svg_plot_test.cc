#include "eval/svg_plot.h"

#include <gtest/gtest.h>

#include <sstream>
#include <vector>

namespace doppel {
namespace {

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

// Every '<' opens a tag that closes with '>', and opening/closing elements balance.
void expect_well_formed(const std::string& svg) {
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(svg.substr(svg.find_last_not_of('\n') - 5, 6), "</svg>");
  int depth = 0;
  for (size_t pos = svg.find('<'); pos != std::string::npos; pos = svg.find('<', pos + 1)) {
    const size_t end = svg.find('>', pos);
    ASSERT_NE(end, std::string::npos);
    const std::string tag = svg.substr(pos, end - pos + 1);
    EXPECT_EQ(tag.find('<', 1), std::string::npos) << tag;
    if (tag[1] == '/') {
      --depth;
    } else if (tag[tag.size() - 2] != '/') {
      ++depth;
    }
    EXPECT_GE(depth, 0);
  }
  EXPECT_EQ(depth, 0);
}

TEST(SvgPlot, PrCurveHasOnePolylinePointPerCurvePoint) {
  std::vector<PrPoint> curve;
  for (int i = 0; i < 25; ++i) {
    curve.push_back({1.0f - i / 25.0f, 1.0 - i / 50.0, i / 24.0, 0.0});
  }
  const auto svg = pr_curve_svg(curve, "P/R <valid> & test", curve[10]);
  expect_well_formed(svg);
  EXPECT_EQ(count(svg, "<polyline"), 1u);
  const size_t start = svg.find("points=\"", svg.find("<polyline")) + 8;
  const std::string points = svg.substr(start, svg.find('"', start) - start);
  std::istringstream in(points);
  std::string point;
  size_t n = 0;
  while (in >> point) {
    EXPECT_NE(point.find(','), std::string::npos);
    ++n;
  }
  EXPECT_EQ(n, curve.size());
  EXPECT_EQ(count(svg, "<circle"), 1u);
  EXPECT_NE(svg.find("P/R &lt;valid&gt; &amp; test"), std::string::npos);
  EXPECT_EQ(count(pr_curve_svg(curve, "t", std::nullopt), "<circle"), 0u);
}

TEST(SvgPlot, HistogramHasBothClassesAndLegend) {
  const std::vector<float> pos = {0.9f, 0.95f, 0.8f, 1.0f};
  const std::vector<float> neg = {0.0f, 0.1f, 0.12f, 0.4f, -0.5f};
  const auto svg = histogram_svg(pos, neg, 0.5f, "scores");
  expect_well_formed(svg);
  EXPECT_NE(svg.find("match (n=4)"), std::string::npos);
  EXPECT_NE(svg.find("non-match (n=5)"), std::string::npos);
  EXPECT_NE(svg.find("#ff7f0e"), std::string::npos);
  EXPECT_NE(svg.find("#1f77b4"), std::string::npos);
  expect_well_formed(histogram_svg({}, {}, 0.5f, "empty"));
}

}  // namespace
}  // namespace doppel
