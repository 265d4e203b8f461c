#include "eval/eval_runs.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "catalog/test_dir.h"
#include "util/expect_error.h"

namespace doppel {
namespace {

using testing::TestDir;

std::string metrics_json(float threshold, int tp, int fp, int fn, int tn) {
  return fmt::format(R"({{"at_threshold": {{"threshold": {}, "tp": {}, "fp": {}, "fn": {}, )"
                     R"("tn": {}}}, "split": "test"}})",
                     threshold, tp, fp, fn, tn);
}

// One `doppel eval` folder: scores.csv and metrics.json.
std::filesystem::path eval_folder(const TestDir& dir, const std::string& name,
                                  std::string_view scores, const std::string& metrics) {
  dir.write(name + "/scores.csv", scores);
  dir.write(name + "/metrics.json", metrics);
  return dir.path() / name;
}

constexpr std::string_view kScoresA =
    "id_a,id_b,label,confidence\na1,b1,1,0.9\na2,b2,1,0.5\na3,b3,0,0.5\na4,b4,0,0.1\n";
// The same pairs in another order, one of them with its ids the other way round.
constexpr std::string_view kScoresB =
    "id_a,id_b,label,confidence\na4,b4,0,0.7\nb2,a2,1,0.2\na1,b1,1,0.8\na3,b3,0,0.3\n";

TEST(ReadEvalRuns, DecisionsAtEachFoldersThresholdInTheFirstFoldersOrder) {
  TestDir dir;
  const std::vector<std::filesystem::path> folders = {
      eval_folder(dir, "a", kScoresA, metrics_json(0.5f, 2, 1, 0, 1)),  // threshold inclusive
      eval_folder(dir, "b", kScoresB, metrics_json(0.6f, 1, 1, 1, 1))};
  const EvalRuns runs = read_eval_runs(folders);
  EXPECT_EQ(runs.labels, (std::vector<uint8_t>{1, 1, 0, 0}));
  ASSERT_EQ(runs.decisions.size(), 2u);
  EXPECT_EQ(runs.decisions[0], (std::vector<uint8_t>{1, 1, 1, 0}));
  EXPECT_EQ(runs.decisions[1], (std::vector<uint8_t>{1, 0, 0, 1}));
  EXPECT_DOUBLE_EQ(runs.metrics[0].f1, 0.8);  // 2 TP, 1 FP, 0 FN
  EXPECT_DOUBLE_EQ(runs.metrics[1].f1, 0.5);  // 1 TP, 1 FP, 1 FN
  EXPECT_FLOAT_EQ(runs.metrics[1].threshold, 0.6f);
}

TEST(ReadEvalRuns, RefusesFoldersThatDidNotScoreTheSamePairs) {
  TestDir dir;
  const auto a = eval_folder(dir, "a", kScoresA, metrics_json(0.5f, 2, 1, 0, 1));
  const auto fewer = eval_folder(dir, "fewer", "id_a,id_b,label,confidence\na1,b1,1,0.9\n",
                                 metrics_json(0.5f, 1, 0, 0, 0));
  expect_error(
      [&] {
        read_eval_runs(std::vector{a, fewer});
      },
      {(fewer / "scores.csv").string(), "1 scored pairs", "has 4"});
  const auto other = eval_folder(
      dir, "other", "id_a,id_b,label,confidence\na1,b1,1,0.9\na2,b2,1,0.5\na3,b3,0,0.5\nx,y,0,0\n",
      metrics_json(0.5f, 2, 1, 0, 1));
  expect_error(
      [&] {
        read_eval_runs(std::vector{a, other});
      },
      {(other / "scores.csv").string(), "no score for the pair (a4, b4)"});
  const auto relabelled =
      eval_folder(dir, "relabelled",
                  "id_a,id_b,label,confidence\na1,b1,1,0.9\na2,b2,1,0.5\na3,b3,1,0.5\n"
                  "a4,b4,0,0.1\n",
                  metrics_json(0.5f, 3, 0, 0, 1));
  expect_error(
      [&] {
        read_eval_runs(std::vector{a, relabelled});
      },
      {(relabelled / "scores.csv").string(), "(a3, b3) is labelled 1, but 0"});
}

TEST(ReadEvalRuns, NamesTheFileAndRecordOfMalformedInput) {
  TestDir dir;
  const std::string metrics = metrics_json(0.5f, 1, 0, 0, 0);
  const auto check = [&](const std::string& name, std::string_view scores,
                         const std::vector<std::string>& parts) {
    const auto folder = eval_folder(dir, name, scores, metrics);
    auto expected = parts;
    expected.push_back((folder / "scores.csv").string());
    expect_error([&] { read_eval_runs(std::vector{folder}); }, expected);
  };
  check("nan", "id_a,id_b,label,confidence\na,b,1,0.9\nc,d,0,high\n",
        {"record 2 (c, d)", "confidence 'high' is not a number"});
  check("label", "id_a,id_b,label,confidence\na,b,yes,0.9\n", {"record 1", "label 'yes'"});
  check("twice", "id_a,id_b,label,confidence\na,b,1,0.9\nb,a,1,0.8\n",
        {"record 2 (b, a)", "listed twice"});
  check("column", "id_a,id_b,confidence\na,b,0.9\n", {"label"});
  check("empty", "id_a,id_b,label,confidence\n", {"no scored pairs"});

  const auto no_metrics = dir.path() / "no_metrics";
  dir.write("no_metrics/scores.csv", kScoresA);
  expect_error([&] { read_eval_runs(std::vector{no_metrics}); },
               {(no_metrics / "metrics.json").string()});
  const auto no_threshold = eval_folder(dir, "no_threshold", kScoresA, R"({"split": "test"})");
  expect_error([&] { read_eval_runs(std::vector{no_threshold}); },
               {(no_threshold / "metrics.json").string(), "at_threshold"});
}

}  // namespace
}  // namespace doppel
