#include "pipeline/text_model_jobs.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <unordered_set>

#include "catalog/readers.h"
#include "pipeline/neural_plugin.h"
#include "text/neural_text_encoder.h"
#include "text/wordpiece.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {

namespace fs = std::filesystem;

namespace {

fs::path out_of_fold_path(const Workspace& ws) {
  return ws.text_model_dir() / kOutOfFoldCosinesFile;
}

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
  return neural_plugin().pretrain_text_model(ws, options, new_model, corpus, resume);
}

MatchReport finetune_text_model(Workspace& ws, const MatchOptions& options, int folds) {
  return neural_plugin().finetune_text_model(ws, options, folds);
}

void save_out_of_fold_cosines(const Workspace& ws, const OutOfFoldCosines& oof) {
  std::string text = fmt::format("# encoder {}\nkey_a,key_b,cosine\n", oof.encoder);
  for (const auto& [keys, cosine] : oof.cosine) {
    text += fmt::format("{},{},{:.7g}\n", keys.first, keys.second, cosine);
  }
  write_file_atomic(out_of_fold_path(ws), text);
}

void remove_out_of_fold_cosines(const Workspace& ws) { fs::remove(out_of_fold_path(ws)); }

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
