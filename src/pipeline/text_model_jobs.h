// Training the neural text encoder of a workspace (ws/models/text/): the WordPiece vocabulary, MLM
// domain pretraining on the catalog's text (plus optional unlabelled corpora), and fine-tuning for
// matching on the catalog's labelled train pairs with the valid pairs choosing the epoch.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/pair_featurizer.h"
#include "pipeline/workspace.h"
#include "text/bert_config.h"
#include "text/match_trainer.h"
#include "text/mlm_trainer.h"
#include "text/wordpiece_trainer.h"

namespace doppel {

// Text for the tokenizer and MLM: each listing's model_text() and its description (when present),
// then every extra corpus file: a catalog file (any format `ingest --format auto` recognises, Ditto
// pair files named .txt included) gives its listings' texts; any other .txt file gives one text
// per non-empty line. Unlabelled text only: labels in corpus files are ignored. Each distinct text
// once.
std::vector<std::string> pretraining_texts(const Workspace& ws,
                                           const std::vector<std::filesystem::path>& corpus);

// Trains the vocabulary and saves vocab.txt + tokenizer_config.json into ws/models/text/.
// Returns the vocabulary size.
int train_tokenizer(Workspace& ws, const WordPieceTrainerOptions& options,
                    const std::vector<std::filesystem::path>& corpus);

// The two stages below run in the neural plugin (pipeline/neural_plugin.h).

// MLM pretraining (text/mlm_trainer.h) of ws/models/text/; `new_model` shapes a fresh BERT when
// the folder has only a vocabulary.
MlmReport pretrain_text_model(Workspace& ws, const MlmOptions& options,
                              const std::optional<BertConfig>& new_model,
                              const std::vector<std::filesystem::path>& corpus, bool resume);

// Contrastive fine-tuning (text/match_trainer.h) on the catalog's labelled "train" pairs (matches
// expanded to their clusters), choosing the epoch by the average precision of the cosine on the
// "valid" pairs.
//
// With folds > 1 it first cross-fits: the train pairs are dealt into `folds` folds (stratified by
// label), and for each fold a copy of the starting model is fine-tuned on the other folds and
// scores the held-out fold's pairs. Those out-of-fold cosines are saved beside the model (below)
// for the decider, which trains on the same pairs: without them it sees the cosine of an encoder
// fitted to exactly its training pairs, trusts it, and is let down on pairs neither has seen
// (docs/results.md). Then the model itself is fine-tuned on all train pairs, as with folds == 1.
// Costs about 1 + (folds - 1) fine-tunings. Any out-of-fold file of an earlier run is removed
// first. Error when folds is outside [1, 20] or a fold's training pairs have no match.
// `doppel train text --stage match` uses 3 folds unless told otherwise (docs/decisions.md).
MatchReport finetune_text_model(Workspace& ws, const MatchOptions& options, int folds);

// The out-of-fold text cosines of the train pairs, saved by finetune_text_model with folds > 1 in
// ws/models/text/out_of_fold_cosines.csv: a line "# encoder <name>", a header, then
// key_a,key_b,cosine with key_a < key_b. Valid only for the vectors of that fine-tuned model, so
// every stage that changes the model without making them (tokenizer, MLM, match with folds == 1)
// removes the file.
struct OutOfFoldCosines {
  std::string encoder;              // NeuralTextEncoder::name() of the fold models
  std::map<KeyPair, float> cosine;  // keyed by (smaller key, larger key)

  // The cosine of the pair in either order; nullptr when it has none.
  const float* find(int64_t key_a, int64_t key_b) const;
};

// nullopt when the workspace has no such file; Error naming the file and line when it is
// malformed.
std::optional<OutOfFoldCosines> load_out_of_fold_cosines(const Workspace& ws);
// The file's name inside the model folder.
inline constexpr const char* kOutOfFoldCosinesFile = "out_of_fold_cosines.csv";
// Writes the file (atomically), and removes it: what fine-tuning with and without folds does.
void save_out_of_fold_cosines(const Workspace& ws, const OutOfFoldCosines& oof);
void remove_out_of_fold_cosines(const Workspace& ws);

}  // namespace doppel
