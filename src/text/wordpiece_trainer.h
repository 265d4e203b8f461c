// WordPiece vocabulary training on a catalog's own texts, as Hugging Face `tokenizers`'
// BertWordPieceTokenizer.train does it: pre-tokenise with the basic tokenizer, count words, start
// from single characters (each in its word-initial form "x" and its continuation form "##x"),
// then repeatedly merge the most frequent adjacent pair of symbols (BPE) until vocab_size.
// The result is a plain vocab.txt vocabulary: tokenising with it is ordinary greedy
// longest-match WordPiece, in doppel or in transformers.
//
// Vocabulary layout: the specials first, in the given order (by default [PAD]=0, [UNK]=1,
// [CLS]=2, [SEP]=3, [MASK]=4), then the alphabet (single characters, by code point), then the
// "##" forms of the alphabet characters that can continue a word (by code point), then each
// merged token in the order it was merged.
//
// Departures from HF, for product titles (docs/tokenizer.md explains them):
// - split_digits (default on): a merge never joins a digit to a non-digit, so "128gb" becomes
//   "128" "##gb" and "kdl46v5100" "kdl" "##46" "##v" "##5100", and the same number or letter run
//   is the same token whatever is glued to it. This constrains training only: tokenising needs
//   no option, so the vocabulary stays usable by transformers' BertTokenizer unchanged.
// - every alphabet character that can continue a word gets its "##" form, even one seen only at
//   the start of words, so an unseen word never becomes [UNK] for lack of one.
// - deterministic: ties between equally frequent pairs go to the pair of lower ids (HF's rule,
//   but HF's ids depend on hash-map order); the same texts and options give the same vocabulary.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "text/wordpiece.h"

namespace doppel {

struct WordPieceTrainerOptions {
  int vocab_size = 16000;     // the result has at most this many tokens (fewer if merges run out)
  int min_frequency = 2;      // stop when the most frequent pair occurs fewer times than this
  int limit_alphabet = 1000;  // at most this many characters (the most frequent); the rest -> [UNK]
  bool split_digits = true;   // see above
  WordPieceOptions tokenizer;  // the basic tokenisation used for training and later for encoding
  std::vector<std::string> specials = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  void validate() const;  // Error naming the field and value
};

Vocabulary train_wordpiece(std::span<const std::string> texts,
                           const WordPieceTrainerOptions& options);

}  // namespace doppel
