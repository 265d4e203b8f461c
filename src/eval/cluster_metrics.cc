#include "eval/cluster_metrics.h"

#include <algorithm>
#include <unordered_map>
#include <utility>
#include <vector>

#include "eval/metrics.h"
#include "util/error.h"

namespace doppel {
namespace {

void check_sizes(std::span<const int64_t> predicted, std::span<const int64_t> truth) {
  if (predicted.size() != truth.size()) {
    fail("cluster metrics: {} predicted ids but {} true ids", predicted.size(), truth.size());
  }
}

uint64_t pairs_of(uint64_t n) { return n * (n - (n > 0 ? 1 : 0)) / 2; }

struct PairHash {
  size_t operator()(const std::pair<int64_t, int64_t>& p) const {
    return std::hash<int64_t>()(p.first) * 0x9E3779B97F4A7C15ull ^ std::hash<int64_t>()(p.second);
  }
};

// Cluster sizes on each side and the sizes of their intersections (the contingency table).
struct Contingency {
  std::unordered_map<int64_t, uint64_t> pred_sizes, true_sizes;
  std::unordered_map<std::pair<int64_t, int64_t>, uint64_t, PairHash> cells;
};

Contingency contingency(std::span<const int64_t> predicted, std::span<const int64_t> truth) {
  check_sizes(predicted, truth);
  Contingency c;
  for (size_t i = 0; i < predicted.size(); ++i) {
    ++c.pred_sizes[predicted[i]];
    ++c.true_sizes[truth[i]];
    ++c.cells[{predicted[i], truth[i]}];
  }
  return c;
}

}  // namespace

PairwiseClusterMetrics pairwise_cluster_metrics(std::span<const int64_t> predicted,
                                                std::span<const int64_t> truth) {
  const auto [pred_sizes, true_sizes, cells] = contingency(predicted, truth);
  // Evaluated members of each predicted cluster; the others are its not-evaluated members.
  std::unordered_map<int64_t, uint64_t> evaluated;
  for (const auto& [ids, n] : cells)
    if (ids.second != kNotEvaluated) evaluated[ids.first] += n;
  PairwiseClusterMetrics m;
  for (const auto& [id, e] : evaluated)
    m.predicted_pairs += pairs_of(e) + e * (pred_sizes.at(id) - e);
  for (const auto& [id, n] : true_sizes)
    if (id != kNotEvaluated) m.true_pairs += pairs_of(n);
  for (const auto& [ids, n] : cells)
    if (ids.second != kNotEvaluated) m.correct_pairs += pairs_of(n);
  m.precision = m.predicted_pairs ? double(m.correct_pairs) / double(m.predicted_pairs) : 0.0;
  m.recall = m.true_pairs ? double(m.correct_pairs) / double(m.true_pairs) : 0.0;
  m.f1 = f1_score(m.precision, m.recall);
  return m;
}

double per_item_f1(std::span<const int64_t> predicted, std::span<const int64_t> truth,
                   uint64_t min_true_size) {
  const auto [pred_sizes, true_sizes, cells] = contingency(predicted, truth);
  // |P_i ∩ T_i| is the size of the contingency cell (pred id, true id) the item falls in.
  double total = 0;
  size_t items = 0;
  for (size_t i = 0; i < predicted.size(); ++i) {
    if (truth[i] == kNotEvaluated || true_sizes.at(truth[i]) < min_true_size) continue;
    const double both = double(cells.at({predicted[i], truth[i]}));
    total += 2 * both / double(pred_sizes.at(predicted[i]) + true_sizes.at(truth[i]));
    ++items;
  }
  return items ? total / double(items) : 0.0;
}

}  // namespace doppel
