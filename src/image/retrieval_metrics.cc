#include "image/retrieval_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "util/error.h"

namespace doppel {

RetrievalScores retrieval_scores(const PairDistance& distance, std::span<const int> query_labels,
                                 std::span<const int> gallery_labels, bool exclude_self) {
  DOPPEL_CHECK(!exclude_self || query_labels.size() == gallery_labels.size(),
               "leave-one-out needs queries = gallery, got {} and {}", query_labels.size(),
               gallery_labels.size());
  struct Ranked {
    float distance;
    bool relevant;
  };
  std::vector<Ranked> row;
  RetrievalScores scores;
  for (size_t q = 0; q < query_labels.size(); ++q) {
    row.clear();
    for (size_t g = 0; g < gallery_labels.size(); ++g) {
      if (exclude_self && g == q) continue;
      const float d = distance(q, g);
      row.push_back({std::isnan(d) ? std::numeric_limits<float>::infinity() : d,
                     gallery_labels[g] == query_labels[q]});
    }
    // Closest first; at equal distance other-label items first (ties count against the query).
    std::sort(row.begin(), row.end(), [](const Ranked& a, const Ranked& b) {
      return a.distance != b.distance ? a.distance < b.distance : a.relevant < b.relevant;
    });
    size_t hits = 0, first_hit = row.size();
    double precision_sum = 0;
    for (size_t rank = 0; rank < row.size(); ++rank) {
      if (!row[rank].relevant) continue;
      if (hits == 0) first_hit = rank;
      ++hits;
      precision_sum += double(hits) / double(rank + 1);
    }
    if (hits == 0) continue;
    ++scores.queries;
    scores.recall_at_1 += first_hit < 1;
    scores.recall_at_5 += first_hit < 5;
    scores.mean_average_precision += precision_sum / double(hits);
  }
  if (scores.queries > 0) {
    const double n = double(scores.queries);
    scores.recall_at_1 /= n;
    scores.recall_at_5 /= n;
    scores.mean_average_precision /= n;
  }
  return scores;
}

RetrievalScores retrieval_scores(std::span<const float> distances,
                                 std::span<const int> query_labels,
                                 std::span<const int> gallery_labels, bool exclude_self) {
  const size_t n_gallery = gallery_labels.size();
  DOPPEL_CHECK(distances.size() == query_labels.size() * n_gallery,
               "distance matrix has {} values, {} queries × {} gallery items need {}",
               distances.size(), query_labels.size(), n_gallery, query_labels.size() * n_gallery);
  return retrieval_scores([&](size_t q, size_t g) { return distances[q * n_gallery + g]; },
                          query_labels, gallery_labels, exclude_self);
}

}  // namespace doppel
