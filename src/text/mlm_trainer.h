// Domain pretraining of the text encoder's BERT by masked-language modelling on catalog text
// (`doppel train text --stage mlm`): 15% of the pieces are picked (or whole words, optionally);
// of those 80% become [MASK], 10% a random piece, 10% stay; the loss is cross-entropy on the
// picked positions only. AdamW with warm-up and linear decay, gradient clipping, a progress bar with
// loss and tokens/s, checkpoints, and resume.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "nn/optimizer_options.h"
#include "text/bert_config.h"

namespace doppel {

struct MlmOptions {
  int epochs = 3;
  int batch_size = 64;
  int max_length = 48;             // tokens per text, [CLS]/[SEP] included
  int64_t max_steps = 0;           // stop after this many steps (0 = run every epoch)
  double mask_probability = 0.15;
  bool whole_word = false;         // mask all pieces of a picked word together
  int checkpoint_every = 500;      // steps between checkpoints in dir/checkpoints/mlm
  int log_every = 50;              // steps per point of the loss curve
  uint64_t seed = 42;
  nn::OptimizerOptions optimizer{.lr = 5e-4};
  void validate() const;  // Error naming the field
};

struct MlmReport {
  int64_t steps = 0;
  int64_t resumed_from_step = 0;
  double tokens_per_second = 0;
  // (step, mean loss over the steps since the previous point)
  std::vector<std::pair<int64_t, double>> loss_curve;
};

// Trains the BERT in `dir` on `texts` and saves it there (config.json, model.safetensors, vocab.txt,
// tokenizer_config.json). When dir holds no model yet, a fresh one of `new_model` is created for
// the vocabulary in dir (Error when neither exists). With `resume`, continues from the newest
// checkpoint in dir/checkpoints/mlm (Error when there is none). Writes the loss curve to
// dir/mlm_log.json.
MlmReport pretrain_mlm(const std::filesystem::path& dir, std::span<const std::string> texts,
                       const MlmOptions& options, const std::optional<BertConfig>& new_model,
                       bool resume);

}  // namespace doppel
