#include "neural/text_training.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <numeric>
#include <unordered_map>

#include "decide/decider.h"
#include "eval/metrics.h"
#include "text/neural_text_encoder.h"
#include "util/error.h"

namespace doppel::neural {

namespace fs = std::filesystem;

namespace {

// One labelled train pair, as keys and as rows of MatchTrainingData::texts.
struct TrainPair {
  KeyPair keys;
  std::pair<size_t, size_t> rows;
  bool match = false;
};

// `base` with the positives and negatives of `pairs` whose fold is not `held_out` (-1: all).
MatchTrainingData training_subset(const MatchTrainingData& base, std::span<const TrainPair> pairs,
                                  std::span<const int> fold_of, int held_out) {
  MatchTrainingData data = base;
  data.positives.clear();
  data.negatives.clear();
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (held_out >= 0 && fold_of[i] == held_out) continue;
    (pairs[i].match ? data.positives : data.negatives).push_back(pairs[i].rows);
  }
  return data;
}

// A copy of the model folder's files (not its checkpoint folders) that is removed again when the
// fold is done or fails.
class FoldModelDir {
 public:
  FoldModelDir(const fs::path& model_dir, int fold)
      : dir_(model_dir.parent_path() /
             fmt::format("{}.fold{}", model_dir.filename().string(), fold)) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (const auto& entry : fs::directory_iterator(model_dir)) {
      if (entry.is_regular_file() && entry.path().filename() != kOutOfFoldCosinesFile) {
        fs::copy_file(entry.path(), dir_ / entry.path().filename());
      }
    }
  }
  ~FoldModelDir() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  FoldModelDir(const FoldModelDir&) = delete;
  FoldModelDir& operator=(const FoldModelDir&) = delete;
  const fs::path& path() const { return dir_; }

 private:
  fs::path dir_;
};

OutOfFoldCosines cross_fitted_cosines(const Workspace& ws, const MatchTrainingData& base,
                                      std::span<const TrainPair> pairs, const MatchOptions& options,
                                      int folds) {
  std::vector<uint8_t> labels;
  for (const TrainPair& p : pairs) labels.push_back(p.match ? 1 : 0);
  const std::vector<int> fold_of = stratified_folds(labels, folds, options.seed);
  OutOfFoldCosines out;
  for (int fold = 0; fold < folds; ++fold) {
    const MatchTrainingData data = training_subset(base, pairs, fold_of, fold);
    if (data.positives.empty()) {
      fail("{}: fold {} of {} leaves no matching train pair to fine-tune on; use fewer --folds",
           ws.root().string(), fold + 1, folds);
    }
    std::vector<std::string> texts;
    std::vector<KeyPair> held_out;
    for (size_t i = 0; i < pairs.size(); ++i) {
      if (fold_of[i] != fold) continue;
      texts.push_back(base.texts[pairs[i].rows.first]);
      texts.push_back(base.texts[pairs[i].rows.second]);
      held_out.push_back(pairs[i].keys);
    }
    spdlog::info("cross-fitting fold {}/{}: fine-tuning on {} pairs, scoring {} held-out pairs",
                 fold + 1, folds, data.positives.size() + data.negatives.size(), held_out.size());
    const FoldModelDir dir(ws.text_model_dir(), fold);
    train_match(dir.path(), data, options);
    const NeuralTextEncoder encoder = NeuralTextEncoder::load(dir.path(), {});
    const size_t dim = size_t(encoder.dim());
    std::vector<float> vectors(texts.size() * dim);
    encoder.encode_texts(texts, vectors.data());
    for (size_t i = 0; i < held_out.size(); ++i) {
      const float* a = &vectors[2 * i * dim];
      const float* b = a + dim;
      out.cosine[held_out[i]] = std::inner_product(a, a + dim, b, 0.0f);
    }
    out.encoder = encoder.name();
  }
  return out;
}

}  // namespace

MlmReport pretrain_text_model(Workspace& ws, const MlmOptions& options,
                              const std::optional<BertConfig>& new_model,
                              const std::vector<fs::path>& corpus, bool resume) {
  auto texts = pretraining_texts(ws, corpus);
  remove_out_of_fold_cosines(ws);
  spdlog::info("MLM pretraining on {} texts", texts.size());
  return pretrain_mlm(ws.text_model_dir(), texts, options, new_model, resume);
}

MatchReport finetune_text_model(Workspace& ws, const MatchOptions& options, int folds) {
  if (folds < 1 || folds > 20) fail("--folds must be between 1 and 20, got {}", folds);
  remove_out_of_fold_cosines(ws);
  auto listings = ws.catalog().all_listings();
  MatchTrainingData data;
  std::unordered_map<int64_t, size_t> row_of;
  for (const Listing& l : listings) {
    row_of.emplace(l.key, data.texts.size());
    data.texts.push_back(model_text(l));
  }
  auto rows = [&](const CatalogStore::StoredLabel& p) {
    return std::pair{row_of.at(p.key_a), row_of.at(p.key_b)};
  };
  std::vector<TrainPair> train;
  for (const auto& p : ws.catalog().labels("train")) {
    train.push_back({std::minmax(p.key_a, p.key_b), rows(p), p.match});
  }
  for (const auto& p : ws.catalog().labels("valid")) {
    data.valid_pairs.push_back(rows(p));
    data.valid_labels.push_back(p.match ? 1 : 0);
  }
  data.valid_metric = [](std::span<const float> scores, std::span<const uint8_t> labels) {
    return average_precision(scores, labels);
  };
  data = training_subset(data, train, {}, /*held_out=*/-1);
  if (data.positives.empty()) {
    fail("{}: no labelled matching pairs in the train split; ingest labelled pairs first",
         ws.root().string());
  }
  std::optional<OutOfFoldCosines> oof;
  if (folds > 1) oof = cross_fitted_cosines(ws, data, train, options, folds);
  spdlog::info("match fine-tuning on {} matching and {} non-matching train pairs, {} valid pairs",
               data.positives.size(), data.negatives.size(), data.valid_pairs.size());
  MatchReport report = train_match(ws.text_model_dir(), data, options);
  if (oof) save_out_of_fold_cosines(ws, *oof);
  return report;
}

}  // namespace doppel::neural
