#include "text/mlm_trainer.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>

#include <nlohmann/json.hpp>

#include "nn/checkpoint.h"
#include "nn/optimizer.h"
#include "nn/state_dict.h"
#include "text/text_model.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace doppel {

namespace fs = std::filesystem;

void MlmOptions::validate() const {
  if (epochs <= 0) fail("mlm: epochs must be positive, got {}", epochs);
  if (batch_size <= 0) fail("mlm: batch_size must be positive, got {}", batch_size);
  if (max_length < 4) fail("mlm: max_length must be at least 4, got {}", max_length);
  if (max_steps < 0) fail("mlm: max_steps must be >= 0, got {}", max_steps);
  if (!(mask_probability > 0 && mask_probability < 1)) {
    fail("mlm: mask_probability must be in (0, 1), got {}", mask_probability);
  }
  if (checkpoint_every <= 0)
    fail("mlm: checkpoint_every must be positive, got {}", checkpoint_every);
  if (log_every <= 0) fail("mlm: log_every must be positive, got {}", log_every);
  optimizer.validate();
}

namespace {

struct Sequence {
  std::vector<int32_t> ids;    // [CLS] pieces [SEP]
  std::vector<int32_t> words;  // word index per id; -1 for [CLS]/[SEP]
};

std::vector<Sequence> tokenize_corpus(const WordPieceTokenizer& tokenizer,
                                      std::span<const std::string> texts, int max_length) {
  std::vector<Sequence> sequences;
  sequences.reserve(texts.size());
  const auto& vocab = tokenizer.vocab();
  for (const std::string& text : texts) {
    auto encoding = tokenizer.encode_with_words(text);
    const size_t keep = std::min(encoding.ids.size(), static_cast<size_t>(max_length - 2));
    if (keep == 0) continue;
    Sequence s;
    s.ids.push_back(vocab.cls_id());
    s.words.push_back(-1);
    s.ids.insert(s.ids.end(), encoding.ids.begin(),
                 encoding.ids.begin() + static_cast<ptrdiff_t>(keep));
    s.words.insert(s.words.end(), encoding.word_ids.begin(),
                   encoding.word_ids.begin() + static_cast<ptrdiff_t>(keep));
    s.ids.push_back(vocab.sep_id());
    s.words.push_back(-1);
    sequences.push_back(std::move(s));
  }
  return sequences;
}

// One epoch's batches: a seeded shuffle, then sorted by length inside windows of 50 batches so
// padding stays small while batches still mix the corpus.
std::vector<std::vector<size_t>> epoch_batches(const std::vector<Sequence>& sequences,
                                               int batch_size, uint64_t seed) {
  std::vector<size_t> order(sequences.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  const size_t window = static_cast<size_t>(batch_size) * 50;
  for (size_t start = 0; start < order.size(); start += window) {
    auto end = order.begin() + static_cast<ptrdiff_t>(std::min(order.size(), start + window));
    std::stable_sort(order.begin() + static_cast<ptrdiff_t>(start), end, [&](size_t a, size_t b) {
      return sequences[a].ids.size() < sequences[b].ids.size();
    });
  }
  std::vector<std::vector<size_t>> batches;
  for (size_t start = 0; start < order.size(); start += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(order.size(), start + static_cast<size_t>(batch_size));
    batches.emplace_back(order.begin() + static_cast<ptrdiff_t>(start),
                         order.begin() + static_cast<ptrdiff_t>(end));
  }
  std::shuffle(batches.begin(), batches.end(), rng);
  return batches;
}

struct MaskedBatch {
  TokenBatch tokens;
  torch::Tensor positions;  // flat indices into [B*T] of the picked positions
  torch::Tensor labels;     // original ids at those positions
  int64_t real_tokens = 0;
};

MaskedBatch mask_batch(const std::vector<Sequence>& sequences, const std::vector<size_t>& rows,
                       const Vocabulary& vocab, const MlmOptions& options, std::mt19937_64& rng) {
  std::vector<std::vector<int32_t>> ids;
  ids.reserve(rows.size());
  for (size_t r : rows) ids.push_back(sequences[r].ids);
  std::uniform_real_distribution<double> uniform(0, 1);
  std::uniform_int_distribution<int32_t> random_piece(0, vocab.size() - 1);
  std::vector<int64_t> positions, labels;
  size_t longest = 0;
  for (const auto& s : ids) longest = std::max(longest, s.size());
  MaskedBatch batch;
  for (size_t b = 0; b < rows.size(); ++b) {
    const Sequence& s = sequences[rows[b]];
    batch.real_tokens += static_cast<int64_t>(s.ids.size());
    int32_t picked_word = -2;
    bool word_picked = false;
    for (size_t t = 0; t < s.ids.size(); ++t) {
      if (s.words[t] < 0) continue;
      bool pick;
      if (options.whole_word) {
        if (s.words[t] != picked_word) {
          picked_word = s.words[t];
          word_picked = uniform(rng) < options.mask_probability;
        }
        pick = word_picked;
      } else {
        pick = uniform(rng) < options.mask_probability;
      }
      if (!pick) continue;
      positions.push_back(static_cast<int64_t>(b * longest + t));
      labels.push_back(s.ids[t]);
      const double action = uniform(rng);
      if (action < 0.8) {
        ids[b][t] = vocab.mask_id();
      } else if (action < 0.9) {
        ids[b][t] = random_piece(rng);
      }
    }
  }
  if (positions.empty()) {  // a tiny batch may pick nothing: predict the first piece of row 0
    positions.push_back(1);
    labels.push_back(ids[0][1]);
    ids[0][1] = vocab.mask_id();
  }
  batch.tokens = pad_batch(ids, vocab.pad_id());
  batch.positions = torch::tensor(positions, torch::kInt64);
  batch.labels = torch::tensor(labels, torch::kInt64);
  return batch;
}

fs::path checkpoint_dir(const fs::path& dir) { return dir / "checkpoints" / "mlm"; }

void write_log(const fs::path& dir, const MlmOptions& options, const MlmReport& report,
               size_t texts) {
  nlohmann::json curve = nlohmann::json::array();
  for (const auto& [step, loss] : report.loss_curve)
    curve.push_back({{"step", step}, {"loss", loss}});
  nlohmann::json log = {{"texts", texts},
                        {"steps", report.steps},
                        {"resumed_from_step", report.resumed_from_step},
                        {"epochs", options.epochs},
                        {"batch_size", options.batch_size},
                        {"lr", options.optimizer.lr},
                        {"whole_word", options.whole_word},
                        {"tokens_per_second", report.tokens_per_second},
                        {"loss_curve", curve}};
  write_file_atomic(dir / "mlm_log.json", log.dump(2) + "\n");
}

}  // namespace

MlmReport pretrain_mlm(const fs::path& dir, std::span<const std::string> texts,
                       const MlmOptions& options, const std::optional<BertConfig>& new_model,
                       bool resume) {
  options.validate();
  torch::manual_seed(options.seed);  // a fresh model's weights and dropout: the same run, the same model
  std::optional<TextModel> loaded;
  if (TextModelFiles::has_bert(dir)) {
    loaded.emplace(TextModel::load(dir, /*require_head=*/false));
  } else if (new_model) {
    if (!fs::exists(dir / "vocab.txt")) {
      fail("{}: missing; train the tokenizer first (doppel train tokenizer)",
           (dir / "vocab.txt").string());
    }
    BertConfig config = *new_model;
    Vocabulary vocab = Vocabulary::load(dir / "vocab.txt");
    config.vocab_size = vocab.size();
    config.pad_token_id = vocab.pad_id();
    loaded.emplace(config, default_head_for(config),
                   WordPieceTokenizer(std::move(vocab), load_tokenizer_config(dir)));
  } else {
    fail("{}: no text model to pretrain", dir.string());
  }
  TextModel& model = *loaded;
  if (options.max_length > model.bert_config().max_position_embeddings) {
    fail("mlm: max_length {} exceeds the model's max_position_embeddings {}", options.max_length,
         model.bert_config().max_position_embeddings);
  }
  auto sequences = tokenize_corpus(model.tokenizer(), texts, options.max_length);
  if (sequences.empty()) fail("mlm: no text to train on");

  const int64_t steps_per_epoch =
      (static_cast<int64_t>(sequences.size()) + options.batch_size - 1) / options.batch_size;
  int64_t total_steps = steps_per_epoch * options.epochs;
  if (options.max_steps > 0) total_steps = std::min(total_steps, options.max_steps);
  nn::Optimizer optimizer({{model.mlm().get()}}, options.optimizer, total_steps);

  MlmReport report;
  const std::vector<nn::CheckpointPart> checkpoint = {{"model.safetensors", model.mlm().get()}};
  if (resume) {
    nn::load_checkpoint(checkpoint_dir(dir), checkpoint, optimizer);
    report.resumed_from_step = optimizer.steps_done();
  }

  model.train(true);
  Progress progress("mlm", static_cast<uint64_t>(total_steps));
  progress.resume_from(static_cast<uint64_t>(optimizer.steps_done()));
  const auto start = std::chrono::steady_clock::now();
  int64_t tokens = 0;
  double loss_sum = 0;
  int loss_count = 0;
  const Vocabulary& vocab = model.tokenizer().vocab();
  while (optimizer.steps_done() < total_steps) {
    const int64_t step = optimizer.steps_done();
    const int64_t epoch = step / steps_per_epoch;
    const auto batches =
        epoch_batches(sequences, options.batch_size, options.seed + static_cast<uint64_t>(epoch));
    for (int64_t i = step % steps_per_epoch;
         i < steps_per_epoch && optimizer.steps_done() < total_steps; ++i) {
      std::mt19937_64 rng(options.seed * 1000003 + static_cast<uint64_t>(optimizer.steps_done()));
      MaskedBatch batch =
          mask_batch(sequences, batches[static_cast<size_t>(i)], vocab, options, rng);
      auto states = model.mlm()->bert(batch.tokens.ids, batch.tokens.mask);
      const int64_t hidden = states.back().size(2);
      auto picked = states.back().reshape({-1, hidden}).index_select(0, batch.positions);
      auto loss = torch::cross_entropy_loss(model.mlm()->mlm_logits(picked), batch.labels);
      loss.backward();
      optimizer.step();
      tokens += batch.real_tokens;
      loss_sum += loss.item<double>();
      ++loss_count;
      const int64_t done = optimizer.steps_done();
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      report.tokens_per_second = seconds > 0 ? static_cast<double>(tokens) / seconds : 0;
      if (done % options.log_every == 0 || done == total_steps) {
        report.loss_curve.emplace_back(done, loss_sum / loss_count);
        progress.set_note(fmt::format("loss {:.3f} · {:.0f} tok/s", loss_sum / loss_count,
                                      report.tokens_per_second));
        loss_sum = 0;
        loss_count = 0;
      }
      progress.advance();
      if (done % options.checkpoint_every == 0) {
        nn::save_checkpoint(checkpoint_dir(dir), checkpoint, optimizer);
      }
    }
  }
  progress.finish();
  report.steps = optimizer.steps_done();
  nn::save_checkpoint(checkpoint_dir(dir), checkpoint, optimizer);
  model.save_bert(dir);
  write_log(dir, options, report, sequences.size());
  return report;
}

}  // namespace doppel
