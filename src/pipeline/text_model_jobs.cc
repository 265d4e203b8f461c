#include "pipeline/text_model_jobs.h"

#include <fstream>
#include <unordered_map>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "catalog/readers.h"
#include "eval/metrics.h"
#include "text/neural_text_encoder.h"
#include "text/wordpiece.h"
#include "util/error.h"

namespace doppel {

namespace fs = std::filesystem;

namespace {

void append_listing_texts(const std::vector<Listing>& listings, std::vector<std::string>& texts) {
  for (const Listing& l : listings) {
    texts.push_back(model_text(l));
    if (!l.description.empty()) texts.push_back(l.description);
  }
}

}  // namespace

std::vector<std::string> pretraining_texts(const Workspace& ws, const std::vector<fs::path>& corpus) {
  std::vector<std::string> texts;
  append_listing_texts(ws.catalog().all_listings(), texts);
  for (const fs::path& file : corpus) {
    const size_t before = texts.size();
    if (file.extension() == ".txt") {
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
  vocab.save(ws.text_model_dir() / "vocab.txt");
  save_tokenizer_config(ws.text_model_dir(), options.tokenizer);
  return vocab.size();
}

MlmReport pretrain_text_model(Workspace& ws, const MlmOptions& options,
                              const std::optional<BertConfig>& new_model,
                              const std::vector<fs::path>& corpus, bool resume) {
  auto texts = pretraining_texts(ws, corpus);
  spdlog::info("MLM pretraining on {} texts", texts.size());
  return pretrain_mlm(ws.text_model_dir(), texts, options, new_model, resume);
}

MatchReport finetune_text_model(Workspace& ws, const MatchOptions& options) {
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
  for (const auto& p : ws.catalog().labels("train")) {
    (p.match ? data.positives : data.negatives).push_back(rows(p));
  }
  for (const auto& p : ws.catalog().labels("valid")) {
    data.valid_pairs.push_back(rows(p));
    data.valid_labels.push_back(p.match ? 1 : 0);
  }
  data.valid_metric = [](std::span<const float> scores, std::span<const uint8_t> labels) {
    return average_precision(scores, labels);
  };
  if (data.positives.empty()) {
    fail("{}: no labelled matching pairs in the train split; ingest labelled pairs first",
         ws.root().string());
  }
  spdlog::info("match fine-tuning on {} matching and {} non-matching train pairs, {} valid pairs",
               data.positives.size(), data.negatives.size(), data.valid_pairs.size());
  return train_match(ws.text_model_dir(), data, options);
}

}  // namespace doppel
