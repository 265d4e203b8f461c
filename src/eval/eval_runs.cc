#include "eval/eval_runs.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <unordered_map>

#include "catalog/readers.h"
#include "util/error.h"
#include "util/json_file.h"

namespace doppel {
namespace {

namespace fs = std::filesystem;

struct ScoredPair {
  uint8_t label = 0;
  float confidence = 0;
};

// The two ids of a pair in one order, so that (a, b) and (b, a) are one key.
std::string pair_key(const std::string& a, const std::string& b) {
  return a < b ? a + '\n' + b : b + '\n' + a;
}

// What `doppel eval` recorded in metrics.json: the threshold and the counts it gave.
struct RecordedRun {
  float threshold = 0;
  BinaryCounts counts;
};

RecordedRun read_metrics(const fs::path& file) {
  const auto metrics = read_json_object(file);
  const auto at = metrics.find("at_threshold");
  if (at == metrics.end() || !at->is_object()) {
    fail("{}: missing object \"at_threshold\"", file.string());
  }
  RecordedRun run;
  const JsonFields fields(*at, file);
  fields.read("threshold", /*required=*/true, run.threshold);
  fields.read("tp", true, run.counts.tp);
  fields.read("fp", true, run.counts.fp);
  fields.read("tn", true, run.counts.tn);
  fields.read("fn", true, run.counts.fn);
  return run;
}

// scores.csv by pair key, and the keys in the file's order.
struct ScoresFile {
  std::unordered_map<std::string, ScoredPair> by_pair;
  std::vector<std::string> order;
};

ScoresFile read_scores(const fs::path& file) {
  constexpr std::string_view kColumns[] = {"id_a", "id_b", "label", "confidence"};
  ScoresFile scores;
  size_t record = 0;
  for (const auto& row : read_csv_columns(file, kColumns)) {
    ++record;
    const auto where = [&] {
      return fmt::format("{}: record {} ({}, {})", file.string(), record, row[0], row[1]);
    };
    ScoredPair pair;
    if (row[2] != "0" && row[2] != "1") fail("{}: label '{}' is not 0 or 1", where(), row[2]);
    pair.label = row[2] == "1";
    const char* end = row[3].data() + row[3].size();
    const auto parsed = std::from_chars(row[3].data(), end, pair.confidence);
    if (row[3].empty() || parsed.ec != std::errc() || parsed.ptr != end) {
      fail("{}: confidence '{}' is not a number", where(), row[3]);
    }
    std::string key = pair_key(row[0], row[1]);
    if (!scores.by_pair.emplace(key, pair).second) fail("{}: the pair is listed twice", where());
    scores.order.push_back(std::move(key));
  }
  if (scores.order.empty()) fail("{}: no scored pairs", file.string());
  return scores;
}

std::string describe(const std::string& key) {
  const size_t cut = key.find('\n');
  return fmt::format("({}, {})", key.substr(0, cut), key.substr(cut + 1));
}

}  // namespace

EvalRuns read_eval_runs(std::span<const fs::path> folders) {
  if (folders.empty()) fail("read_eval_runs: no folder");
  EvalRuns runs;
  std::vector<std::string> order;
  fs::path first_scores;
  for (const fs::path& folder : folders) {
    const fs::path scores_file = folder / "scores.csv", metrics_file = folder / "metrics.json";
    const ScoresFile scores = read_scores(scores_file);
    const RecordedRun recorded = read_metrics(metrics_file);
    if (order.empty()) {
      order = scores.order;
      first_scores = scores_file;
      for (const auto& key : order) runs.labels.push_back(scores.by_pair.at(key).label);
    } else if (scores.order.size() != order.size()) {
      fail("{}: {} scored pairs, but {} has {}: compare runs on the same pairs",
           scores_file.string(), scores.order.size(), first_scores.string(), order.size());
    }
    std::vector<uint8_t> decisions(order.size());
    std::vector<float> confidence(order.size());
    for (size_t i = 0; i < order.size(); ++i) {
      const auto found = scores.by_pair.find(order[i]);
      if (found == scores.by_pair.end()) {
        fail("{}: no score for the pair {} of {}", scores_file.string(), describe(order[i]),
             first_scores.string());
      }
      if (found->second.label != runs.labels[i]) {
        fail("{}: the pair {} is labelled {}, but {} in {}", scores_file.string(),
             describe(order[i]), found->second.label, runs.labels[i], first_scores.string());
      }
      confidence[i] = found->second.confidence;
      decisions[i] = confidence[i] >= recorded.threshold;
    }
    runs.metrics.push_back(binary_metrics(confidence, runs.labels, recorded.threshold));
    const BinaryCounts c = runs.metrics.back().counts, r = recorded.counts;
    if (c.tp != r.tp || c.fp != r.fp || c.fn != r.fn || c.tn != r.tn) {
      spdlog::warn(
          "{}: scores.csv at threshold {} gives TP {} FP {} FN {}, metrics.json says TP {} "
          "FP {} FN {} (confidences rounded in the file); the file's are used",
          folder.string(), recorded.threshold, c.tp, c.fp, c.fn, r.tp, r.fp, r.fn);
    }
    runs.decisions.push_back(std::move(decisions));
  }
  return runs;
}

EvalComparison compare_eval_runs(std::span<const fs::path> baseline,
                                 std::span<const fs::path> candidate,
                                 const PairedBootstrapOptions& options) {
  std::vector<fs::path> folders(baseline.begin(), baseline.end());
  folders.insert(folders.end(), candidate.begin(), candidate.end());
  const EvalRuns runs = read_eval_runs(folders);
  const size_t cut = baseline.size();
  const std::span<const std::vector<uint8_t>> decisions(runs.decisions);
  EvalComparison c;
  c.pairs = runs.labels.size();
  c.matches = size_t(std::count(runs.labels.begin(), runs.labels.end(), 1));
  c.baseline.assign(runs.metrics.begin(), runs.metrics.begin() + std::ptrdiff_t(cut));
  c.candidate.assign(runs.metrics.begin() + std::ptrdiff_t(cut), runs.metrics.end());
  c.options = options;
  c.bootstrap = paired_bootstrap_f1(runs.labels, decisions.first(cut), decisions.subspan(cut),
                                    options);
  return c;
}

namespace {

std::string side_text(const char* name, std::span<const BinaryMetrics> runs, double mean) {
  if (runs.size() == 1) return fmt::format("{:<9}  F1 {:.4f}, 1 run\n", name, mean);
  const auto [low, high] = std::minmax_element(
      runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.f1 < b.f1; });
  return fmt::format("{:<9}  F1 {:.4f}, mean of {} runs ({:.4f} to {:.4f})\n", name, mean,
                     runs.size(), low->f1, high->f1);
}

nlohmann::json side_json(std::span<const BinaryMetrics> runs, double mean) {
  nlohmann::json f1 = nlohmann::json::array();
  for (const auto& run : runs) f1.push_back(run.f1);
  return {{"f1", mean}, {"runs", f1}};
}

}  // namespace

std::string eval_comparison_text(const EvalComparison& c) {
  const PairedBootstrap& b = c.bootstrap;
  return fmt::format("{} labelled pairs, {} matches, the same in all {} folders\n", c.pairs,
                     c.matches, c.baseline.size() + c.candidate.size()) +
         side_text("baseline", c.baseline, b.baseline_f1) +
         side_text("candidate", c.candidate, b.candidate_f1) +
         fmt::format(
             "candidate - baseline: {:+.4f}; {:g}% interval over {} paired draws of the pairs "
             "[{:+.4f}, {:+.4f}]; candidate ahead on {:.1f}% of the draws, behind on {:.1f}%\n",
             b.difference, 100 * c.options.level, c.options.resamples, b.low, b.high,
             100 * b.candidate_ahead, 100 * b.candidate_behind);
}

nlohmann::json eval_comparison_json(const EvalComparison& c) {
  const PairedBootstrap& b = c.bootstrap;
  return {{"pairs", c.pairs},
          {"matches", c.matches},
          {"resamples", c.options.resamples},
          {"level", c.options.level},
          {"baseline", side_json(c.baseline, b.baseline_f1)},
          {"candidate", side_json(c.candidate, b.candidate_f1)},
          {"difference", b.difference},
          {"interval", {b.low, b.high}},
          {"candidate_ahead", b.candidate_ahead},
          {"candidate_behind", b.candidate_behind}};
}

}  // namespace doppel
