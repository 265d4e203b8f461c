// Labelled pairs for the Shopee subset (../shared/data/shopee-subset/train_subset.csv), which has
// ground-truth clusters (label_group) but no labelled pairs and no images.
//
// The label groups, not the postings, are split (a seeded hash of label_group: 60% train,
// 20% valid, 20% test), so a duplicate group never straddles two splits and the test groups are
// unseen by training and threshold choice. Within each split:
//   - positives: every pair of postings of one group;
//   - negatives: each posting's `nearest_negatives` text-nearest postings of other groups (TF-IDF
//     cosine over the titles of the split: what a vector index offers the decider) and
//     `random_negatives` postings of other groups drawn at random.
// Postings become listings id = posting_id, title = title; image stays empty (not in the subset).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "synth/catalog_synth.h"

namespace doppel {

struct ShopeeBenchmarkOptions {
  uint64_t seed = 1;
  size_t nearest_negatives = 2;
  size_t random_negatives = 1;
};

struct ShopeeBenchmark {
  SynthCatalog catalog;            // product_of = label_group
  std::vector<std::string> split;  // "train", "valid" or "test" of each listing (of its group)
};

// Throws doppel::Error naming the file (and line) when it lacks posting_id, title or
// label_group, is malformed, or repeats a posting_id.
ShopeeBenchmark make_shopee_benchmark(const std::filesystem::path& train_csv,
                                      const ShopeeBenchmarkOptions& options);

// write_synth_catalog's files, plus clusters_train.csv, clusters_valid.csv and clusters_test.csv:
// the ground truth of each split's groups, for doppel eval-clusters.
void write_shopee_benchmark(const ShopeeBenchmark& benchmark, const std::filesystem::path& dir);

}  // namespace doppel
