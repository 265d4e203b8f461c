// top_k — the running best-k list that the BLAS searches keep per query while they walk a block
// of scores. A list starts as k entries of score -inf and key -1.
#pragma once

#include <cstddef>
#include <cstdint>

namespace doppel {

// Inserts (score, key) into a best-first list of k scores and keys whose last entry is the worst
// (k >= 1); the caller has checked that the score belongs in the list. An entry already in the
// list keeps its place against an equal score, so when keys arrive in increasing order the
// smaller key wins ties.
inline void insert_top(float* scores, int64_t* keys, size_t k, float score, int64_t key) {
  size_t pos = k - 1;
  while (pos > 0 && scores[pos - 1] < score) {
    scores[pos] = scores[pos - 1];
    keys[pos] = keys[pos - 1];
    --pos;
  }
  scores[pos] = score;
  keys[pos] = key;
}

// Offers (score, key) to such a list: it goes in when it beats the worst entry, or when a slot is
// still empty (key -1), which any score but NaN fills.
inline void offer_top(float* scores, int64_t* keys, size_t k, float score, int64_t key) {
  if (score > scores[k - 1] || (keys[k - 1] < 0 && score >= scores[k - 1]))
    insert_top(scores, keys, k, score, key);
}

}  // namespace doppel
