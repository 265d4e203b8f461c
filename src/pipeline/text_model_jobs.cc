#include "pipeline/text_model_jobs.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "catalog/readers.h"
#include "decide/decider.h"
#include "eval/metrics.h"
#include "text/neural_text_encoder.h"
#include "text/wordpiece.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {

namespace fs = std::filesystem;

namespace {

fs::path out_of_fold_path(const Workspace& ws) {
  return ws.text_model_dir() / "out_of_fold_cosines.csv";
}

void append_listing_texts(const std::vector<Listing>& listings, std::vector<std::string>& texts) {
  for (const Listing& l : listings) {
    texts.push_back(model_text(l));
    if (!l.description.empty()) texts.push_back(l.description);
  }
}

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
      if (entry.is_regular_file() && entry.path().filename() != "out_of_fold_cosines.csv") {
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

void save_out_of_fold_cosines(const Workspace& ws, const OutOfFoldCosines& oof) {
  std::string text = fmt::format("# encoder {}\nkey_a,key_b,cosine\n", oof.encoder);
  for (const auto& [keys, cosine] : oof.cosine) {
    text += fmt::format("{},{},{:.7g}\n", keys.first, keys.second, cosine);
  }
  write_file_atomic(out_of_fold_path(ws), text);
}

}  // namespace

std::vector<std::string> pretraining_texts(const Workspace& ws, const std::vector<fs::path>& corpus) {
  std::vector<std::string> texts;
  append_listing_texts(ws.catalog().all_listings(), texts);
  for (const fs::path& file : corpus) {
    const size_t before = texts.size();
    // Ditto's pair files are .txt too: only a .txt that no catalog format claims is plain text.
    if (file.extension() == ".txt" && !sniff_catalog_format(file)) {
      std::ifstream in(file);
      if (!in) fail("{}: cannot open the corpus file", file.string());
      for (std::string line; std::getline(in, line);) {
        if (line.find_first_not_of(" \t\r") != std::string::npos) texts.push_back(line);
      }
    } else {
      auto read = read_catalog(file);
      append_listing_texts(read.listings, texts);
    }
    spdlog::info("corpus {}: {} texts", file.string(), texts.size() - before);
  }
  // Benchmark files repeat listings across splits and subsets: keep each text once.
  std::unordered_set<std::string> seen;
  std::vector<std::string> unique;
  for (std::string& text : texts) {
    if (seen.insert(text).second) unique.push_back(std::move(text));
  }
  if (unique.empty()) fail("{}: no text to train on; ingest listings first", ws.root().string());
  spdlog::info("{} distinct texts", unique.size());
  return unique;
}

int train_tokenizer(Workspace& ws, const WordPieceTrainerOptions& options,
                    const std::vector<fs::path>& corpus) {
  auto texts = pretraining_texts(ws, corpus);
  spdlog::info("training a {}-piece WordPiece vocabulary on {} texts", options.vocab_size, texts.size());
  Vocabulary vocab = train_wordpiece(texts, options);
  fs::create_directories(ws.text_model_dir());
  fs::remove(out_of_fold_path(ws));
  vocab.save(ws.text_model_dir() / "vocab.txt");
  save_tokenizer_config(ws.text_model_dir(), options.tokenizer);
  return vocab.size();
}

MlmReport pretrain_text_model(Workspace& ws, const MlmOptions& options,
                              const std::optional<BertConfig>& new_model,
                              const std::vector<fs::path>& corpus, bool resume) {
  auto texts = pretraining_texts(ws, corpus);
  fs::remove(out_of_fold_path(ws));
  spdlog::info("MLM pretraining on {} texts", texts.size());
  return pretrain_mlm(ws.text_model_dir(), texts, options, new_model, resume);
}

MatchReport finetune_text_model(Workspace& ws, const MatchOptions& options, int folds) {
  if (folds < 1 || folds > 20) fail("--folds must be between 1 and 20, got {}", folds);
  fs::remove(out_of_fold_path(ws));
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

const float* OutOfFoldCosines::find(int64_t key_a, int64_t key_b) const {
  const auto found = cosine.find(std::minmax(key_a, key_b));
  return found == cosine.end() ? nullptr : &found->second;
}

std::optional<OutOfFoldCosines> load_out_of_fold_cosines(const Workspace& ws) {
  const fs::path path = out_of_fold_path(ws);
  if (!fs::exists(path)) return std::nullopt;
  std::vector<std::string> lines;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  auto malformed = [&](size_t index, std::string_view expected) {
    fail("{}:{}: expected {}; rerun `doppel train text --stage match --folds K`", path.string(),
         index + 1, expected);
  };
  constexpr std::string_view kEncoder = "# encoder ";
  if (lines.empty() || !lines[0].starts_with(kEncoder)) malformed(0, "'# encoder <name>'");
  if (lines.size() < 2 || lines[1] != "key_a,key_b,cosine") malformed(1, "key_a,key_b,cosine");
  OutOfFoldCosines oof;
  oof.encoder = lines[0].substr(kEncoder.size());
  for (size_t i = 2; i < lines.size(); ++i) {
    int64_t a = 0, b = 0;
    float cosine = 0;
    char comma1 = 0, comma2 = 0;
    std::istringstream fields(lines[i]);
    if (!(fields >> a >> comma1 >> b >> comma2 >> cosine) || comma1 != ',' || comma2 != ',' ||
        !(fields >> std::ws).eof() || !std::isfinite(cosine)) {
      malformed(i, "key_a,key_b,cosine");
    }
    oof.cosine[std::minmax(a, b)] = cosine;
  }
  return oof;
}

}  // namespace doppel
