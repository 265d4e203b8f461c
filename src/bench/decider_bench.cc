#include "bench/decider_bench.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <functional>

#include "util/error.h"

namespace doppel {
namespace {

// Rates (pairs/s) of `run` over `repetitions` timed passes after one warm-up pass.
DeciderBenchRow time_method(std::string method, size_t pairs, int repetitions,
                            const std::function<size_t()>& run) {
  volatile size_t sink = run();  // warm-up; the result keeps the work from being optimised away
  std::vector<double> rates;
  for (int r = 0; r < repetitions; ++r) {
    const auto start = std::chrono::steady_clock::now();
    sink = sink + run();
    const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
    rates.push_back(static_cast<double>(pairs) / std::max(seconds.count(), 1e-9));
  }
  std::sort(rates.begin(), rates.end());
  return {std::move(method), pairs, rates[rates.size() / 2], rates.front(), rates.back(), 1};
}

}  // namespace

std::vector<DeciderBenchRow> run_decider_bench(const PairFeaturizer& featurizer,
                                               std::span<Decider* const> deciders,
                                               std::span<const KeyPair> pairs, int repetitions) {
  if (deciders.empty()) fail("bench decider: no decider loaded");
  if (pairs.empty()) fail("bench decider: no pairs to score");
  if (repetitions < 1) fail("bench decider: repetitions must be >= 1, got {}", repetitions);
  const int dim = featurizer.text_dim();
  const float threshold = deciders.front()->threshold();
  std::vector<DeciderBenchRow> rows;
  rows.push_back(time_method("cosine threshold (text vectors)", pairs.size(), repetitions, [&] {
    size_t accepted = 0;
#pragma omp parallel for reduction(+ : accepted) schedule(static)
    for (size_t p = 0; p < pairs.size(); ++p) {
      const float* a = featurizer.text_vector(pairs[p].first);
      const float* b = featurizer.text_vector(pairs[p].second);
      if (!a || !b) continue;
      float dot = 0;
      for (int d = 0; d < dim; ++d) dot += a[d] * b[d];
      accepted += dot >= threshold;
    }
    return accepted;
  }));
  rows.push_back(time_method(fmt::format("decider features ({} columns)", featurizer.width()),
                             pairs.size(), repetitions,
                             [&] { return featurizer.features(pairs).size(); }));
  const std::vector<float> features = featurizer.features(pairs);
  for (Decider* decider : deciders) {
    const bool mlp = decider->classifier() == Classifier::kMlp;
    const std::string models =
        fmt::format("{} model{}", decider->num_models(), decider->num_models() == 1 ? "" : "s");
    auto accepted = [&](const std::vector<float>& scores) {
      return static_cast<size_t>(std::count_if(scores.begin(), scores.end(),
                                               [&](float s) { return s >= decider->threshold(); }));
    };
    // An XGBoost decider twice: XGBoost's own predictor, then the compiled trees it uses.
    for (const auto predictor : {TreePredictor::kXgboost, TreePredictor::kCompiled}) {
      if (mlp && predictor == TreePredictor::kXgboost) continue;
      decider->set_tree_predictor(predictor);
      const std::string name =
          mlp ? fmt::format("MLP decider ({})", models)
              : fmt::format("XGBoost decider ({}), {}", models,
                            predictor == TreePredictor::kXgboost ? "XGBoost's predictor"
                                                                 : "compiled trees");
      rows.push_back(time_method(name + " alone", pairs.size(), repetitions, [&] {
        return accepted(decider->predict(features.data(), pairs.size()));
      }));
      rows.push_back(time_method("features + " + name, pairs.size(), repetitions, [&] {
        return accepted(score_pairs(featurizer, *decider, pairs));
      }));
    }
  }
  for (auto& row : rows) row.vs_cosine = row.median_per_second / rows.front().median_per_second;
  return rows;
}

std::string decider_bench_markdown(const std::vector<DeciderBenchRow>& rows, int threads,
                                   const std::string& features) {
  std::string out = fmt::format(
      "Pairs/s on {} thread(s); decider features: {}.\n\n"
      "| method | pairs | pairs/s (median) | min–max | × cosine threshold | s per 1000 pairs |\n"
      "|---|---:|---:|---:|---:|---:|\n",
      threads, features);
  for (const auto& r : rows) {
    out += fmt::format("| {} | {} | {:.0f} | {:.0f}–{:.0f} | {:.3f} | {:.4f} |\n", r.method,
                       r.pairs, r.median_per_second, r.min_per_second, r.max_per_second,
                       r.vs_cosine, 1000.0 / r.median_per_second);
  }
  return out;
}

}  // namespace doppel
