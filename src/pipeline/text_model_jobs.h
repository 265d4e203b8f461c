// Training the neural text encoder of a workspace (ws/models/text/): the WordPiece vocabulary, MLM
// domain pretraining on the catalog's text (plus optional unlabelled corpora), and fine-tuning for
// matching on the catalog's labelled train pairs with the valid pairs choosing the epoch.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

#include "pipeline/workspace.h"
#include "text/bert_config.h"
#include "text/match_trainer.h"
#include "text/mlm_trainer.h"
#include "text/wordpiece_trainer.h"

namespace doppel {

// Text for the tokenizer and MLM: each listing's model_text() and its description (when present),
// then every extra corpus file: a .txt file gives one text per non-empty line, any other file is
// read as a catalog (read_catalog, format auto) and gives its listings' texts. Unlabelled text only:
// labels in corpus files are ignored. Each distinct text once.
std::vector<std::string> pretraining_texts(const Workspace& ws,
                                           const std::vector<std::filesystem::path>& corpus);

// Trains the vocabulary and saves vocab.txt + tokenizer_config.json into ws/models/text/.
// Returns the vocabulary size.
int train_tokenizer(Workspace& ws, const WordPieceTrainerOptions& options,
                    const std::vector<std::filesystem::path>& corpus);

// MLM pretraining (text/mlm_trainer.h) of ws/models/text/; `new_model` shapes a fresh BERT when
// the folder has only a vocabulary.
MlmReport pretrain_text_model(Workspace& ws, const MlmOptions& options,
                              const std::optional<BertConfig>& new_model,
                              const std::vector<std::filesystem::path>& corpus, bool resume);

// Contrastive fine-tuning (text/match_trainer.h) on the catalog's labelled "train" pairs (matches
// expanded to their clusters), choosing the epoch by the average precision of the cosine on the
// "valid" pairs.
MatchReport finetune_text_model(Workspace& ws, const MatchOptions& options);

}  // namespace doppel
