#include "pipeline/eval_job.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <numeric>

#include "eval/svg_plot.h"
#include "pipeline/candidates.h"
#include "pipeline/labeled_pairs.h"
#include "pipeline/match_models.h"
#include "util/csv_write.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {
namespace {

nlohmann::json to_json(const BinaryMetrics& m) {
  return {{"threshold", m.threshold},      {"precision", m.precision}, {"recall", m.recall},
          {"f1", m.f1},                    {"negative_f1", m.negative_f1},
          {"macro_f1", m.macro_f1},        {"accuracy", m.accuracy},  {"tp", m.counts.tp},
          {"fp", m.counts.fp},             {"tn", m.counts.tn},       {"fn", m.counts.fn}};
}

// The most confident mistakes of one kind, for the report.
std::string worst_errors(const PairFeaturizer& featurizer, const LabeledKeyPairs& labelled,
                         std::span<const float> scores, float threshold, bool false_positives) {
  std::vector<size_t> errors;
  for (size_t i = 0; i < scores.size(); ++i) {
    bool predicted = scores[i] >= threshold;
    if (predicted != static_cast<bool>(labelled.labels[i]) && predicted == false_positives)
      errors.push_back(i);
  }
  std::sort(errors.begin(), errors.end(), [&](size_t a, size_t b) {
    return false_positives ? scores[a] > scores[b] : scores[a] < scores[b];
  });
  // With image vectors in the catalog, the photos are linked beside the titles.
  const bool images = featurizer.image_dim() > 0;
  std::string out = images ? "| confidence | title A | title B | image A | image B |\n"
                             "|---:|---|---|---|---|\n"
                           : "| confidence | title A | title B |\n|---:|---|---|\n";
  auto cell = [](std::string s) {
    std::replace(s.begin(), s.end(), '|', '/');
    return s.size() > 90 ? s.substr(0, 87) + "..." : s;
  };
  auto photo = [](const Listing& l) {
    return l.image.empty() ? std::string("(none)") : fmt::format("[photo](<{}>)", l.image);
  };
  for (size_t r = 0; r < errors.size() && r < 10; ++r) {
    const size_t i = errors[r];
    const Listing& a = featurizer.listing(labelled.pairs[i].first);
    const Listing& b = featurizer.listing(labelled.pairs[i].second);
    out += fmt::format("| {:.3f} | {} | {} |", scores[i], cell(a.title), cell(b.title));
    out += images ? fmt::format(" {} | {} |\n", photo(a), photo(b)) : "\n";
  }
  return out;
}

}  // namespace

EvalSummary run_eval(Workspace& ws, const EvalOptions& options) {
  auto labelled = labeled_pairs(ws.catalog(), options.split);
  if (labelled.pairs.empty())
    fail("{}: no labelled pairs in split '{}'", ws.root().string(), options.split);
  bool have_index = std::filesystem::exists(ws.index_path("text"));
  auto models = MatchModels::load(ws, /*need_decider=*/true, have_index);
  auto scores = score_pairs(*models.featurizer, *models.decider, labelled.pairs);
  // The encoder that made the stored text vectors (classical or neural), not the TF-IDF model
  // that every workspace loads for the pair features.
  const std::string text_encoder = ws.catalog().meta("text_encoder").value_or("none");

  EvalSummary summary;
  summary.split = options.split;
  summary.pairs = labelled.pairs.size();
  summary.positives = labelled.positives();
  float threshold = models.decider->threshold();
  summary.at_threshold = binary_metrics(scores, labelled.labels, threshold);
  summary.average_precision = average_precision(scores, labelled.labels);
  if (options.random_pairs > 0) {
    // Another seed than training's, which drew its random non-matches with the decider's seed.
    const uint64_t seed = models.decider->options().seed ^ 0x9E3779B97F4A7C15ull;
    const auto random =
        random_catalog_negatives(ws.catalog(), *models.featurizer, options.random_pairs, seed);
    const auto random_scores = score_pairs(*models.featurizer, *models.decider, random.pairs);
    summary.random_pairs = random.pairs.size();
    summary.random_pairs_accepted = static_cast<size_t>(std::count_if(
        random_scores.begin(), random_scores.end(), [&](float s) { return s >= threshold; }));
  }

  if (models.index) {
    std::vector<KeyPair> positives;
    std::vector<int64_t> keys;
    for (size_t i = 0; i < labelled.pairs.size(); ++i) {
      if (!labelled.labels[i]) continue;
      positives.push_back(labelled.pairs[i]);
      keys.push_back(labelled.pairs[i].first);
      keys.push_back(labelled.pairs[i].second);
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    const int max_k = *std::max_element(options.recall_ks.begin(), options.recall_ks.end());
    const auto& featurizer = *models.featurizer;
    const auto by_text = nearest_neighbours(*models.index, featurizer, keys, max_k);
    std::unordered_map<int64_t, std::vector<Neighbour>> by_image;
    if (models.image_index)
      by_image = nearest_neighbours(*models.image_index, featurizer, keys, max_k, Modality::kImage);
    const auto exact = exact_key_pairs(ws.catalog(), keys);
    for (int k : options.recall_ks) {
      EvalSummary::CandidateRecall r;
      r.k = k;
      r.text = candidate_recall(positives, by_text, k);
      if (models.image_index) r.image = candidate_recall(positives, by_image, k);
      r.exact = pair_recall(positives, exact);
      const std::vector<std::vector<KeyPair>> sources = {
          candidate_pairs(by_text, k), candidate_pairs(by_image, k), exact};
      r.any = pair_recall(positives, union_pairs(sources));
      summary.candidate_recall.push_back(r);
    }
  }

  // Files: metrics.json, the two plots, report.md.
  std::filesystem::create_directories(options.out_dir);
  auto curve = pr_curve(scores, labelled.labels);
  PrPoint chosen{threshold, summary.at_threshold.precision, summary.at_threshold.recall,
                 summary.at_threshold.f1};
  write_file_atomic(options.out_dir / "pr_curve.svg",
                    pr_curve_svg(curve, fmt::format("PR curve — {} split", options.split), chosen));
  std::vector<float> pos_scores, neg_scores;
  for (size_t i = 0; i < scores.size(); ++i)
    (labelled.labels[i] ? pos_scores : neg_scores).push_back(scores[i]);
  write_file_atomic(options.out_dir / "scores.svg",
                    histogram_svg(pos_scores, neg_scores, threshold,
                                  fmt::format("Decider confidence by class — {}", options.split)));

  nlohmann::json sweep = nlohmann::json::array();
  for (float t : {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f})
    sweep.push_back(to_json(binary_metrics(scores, labelled.labels, t)));
  nlohmann::json recall = nlohmann::json::object();
  for (const auto& r : summary.candidate_recall) {
    const nlohmann::json image = std::isnan(r.image) ? nlohmann::json() : nlohmann::json(r.image);
    recall[fmt::format("{}", r.k)] = {
        {"text", r.text}, {"image", image}, {"exact_key", r.exact}, {"any", r.any}};
  }
  nlohmann::json metrics = {
      {"split", options.split},
      {"pairs", summary.pairs},
      {"positives", summary.positives},
      {"text_encoder", text_encoder},
      {"at_threshold", to_json(summary.at_threshold)},
      {"average_precision", summary.average_precision},
      {"threshold_sweep", sweep},
      {"random_pairs",
       {{"pairs", summary.random_pairs}, {"accepted", summary.random_pairs_accepted}}},
      {"candidate_recall_at_k", recall}};
  write_file_atomic(options.out_dir / "metrics.json", metrics.dump(2) + "\n");
  std::string scored = "id_a,id_b,label,confidence\n";
  for (size_t i = 0; i < scores.size(); ++i)
    scored += fmt::format("{},{},{},{}\n",  // shortest text that reads back as the float
                          csv_field(models.featurizer->listing(labelled.pairs[i].first).id),
                          csv_field(models.featurizer->listing(labelled.pairs[i].second).id),
                          labelled.labels[i], scores[i]);
  write_file_atomic(options.out_dir / "scores.csv", scored);

  const auto& m = summary.at_threshold;
  std::string report = fmt::format(
      "# doppel evaluation — {} split\n\n"
      "{} labelled pairs, {} positive. Text encoder: {}. Threshold {:.3f} (chosen when the "
      "decider was trained: on the valid split, or out-of-fold with --folds).\n\n"
      "| precision | recall | F1 (positive) | macro F1 | accuracy | average precision |\n"
      "|---:|---:|---:|---:|---:|---:|\n"
      "| {:.4f} | {:.4f} | {:.4f} | {:.4f} | {:.4f} | {:.4f} |\n\n"
      "Confusion at the threshold: TP {}, FP {}, FN {}, TN {}.\n\n"
      "Random pairs of catalog listings (nearly all two products) accepted as matches: {} of "
      "{}.\n\n"
      "![PR curve](pr_curve.svg)\n\n![scores](scores.svg)\n\n## Threshold sweep\n\n"
      "| threshold | precision | recall | F1 | macro F1 |\n|---:|---:|---:|---:|---:|\n",
      options.split, summary.pairs, summary.positives, text_encoder, threshold, m.precision,
      m.recall, m.f1, m.macro_f1, m.accuracy, summary.average_precision, m.counts.tp, m.counts.fp,
      m.counts.fn, m.counts.tn, summary.random_pairs_accepted, summary.random_pairs);
  for (const auto& row : sweep)
    report += fmt::format("| {:.1f} | {:.4f} | {:.4f} | {:.4f} | {:.4f} |\n",
                          row["threshold"].get<float>(), row["precision"].get<double>(),
                          row["recall"].get<double>(), row["f1"].get<double>(),
                          row["macro_f1"].get<double>());
  if (!summary.candidate_recall.empty()) {
    report += "\n## Candidate recall@k (true matches among the candidates, per source)\n\n"
              "| k | text top-k | image top-k | shared code | union |\n"
              "|---:|---:|---:|---:|---:|\n";
    for (const auto& r : summary.candidate_recall) {
      report += fmt::format("| {} | {:.4f} | {} | {:.4f} | {:.4f} |\n", r.k, r.text,
                            std::isnan(r.image) ? "—" : fmt::format("{:.4f}", r.image), r.exact,
                            r.any);
    }
  }
  report += "\n## Most confident false positives\n\n" +
            worst_errors(*models.featurizer, labelled, scores, threshold, true) +
            "\n## Most confident false negatives\n\n" +
            worst_errors(*models.featurizer, labelled, scores, threshold, false);
  write_file_atomic(options.out_dir / "report.md", report);
  return summary;
}

}  // namespace doppel
