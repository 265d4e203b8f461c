#include "synth/shopee_benchmark.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <unordered_set>

#include "catalog/readers.h"
#include "text/tfidf.h"
#include "util/error.h"
#include "util/hash.h"

namespace doppel {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSplits[] = {"train", "valid", "test"};

// 60% train, 20% valid, 20% test of the label groups, by a seeded hash of the group id.
std::string_view split_of_group(std::string_view group, uint64_t seed) {
  const uint64_t h = fnv1a64(group, fnv1a64(fmt::format("shopee-split-{}", seed)));
  const uint64_t r = h % 10;
  return r < 6 ? kSplits[0] : r < 8 ? kSplits[1] : kSplits[2];
}

}  // namespace

ShopeeBenchmark make_shopee_benchmark(const fs::path& train_csv,
                                      const ShopeeBenchmarkOptions& options) {
  constexpr std::string_view kColumns[] = {"posting_id", "title", "label_group"};
  ShopeeBenchmark out;
  SynthCatalog& catalog = out.catalog;
  std::unordered_set<std::string> ids;
  for (auto& row : read_csv_columns(train_csv, kColumns)) {
    if (!ids.insert(row[0]).second) fail("{}: posting_id '{}' twice", train_csv.string(), row[0]);
    Listing l;
    l.id = std::move(row[0]);
    l.title = std::move(row[1]);
    out.split.emplace_back(split_of_group(row[2], options.seed));
    catalog.product_of.push_back(std::move(row[2]));
    catalog.listings.push_back(std::move(l));
  }

  std::vector<std::string> titles;
  for (const Listing& l : catalog.listings) titles.push_back(l.title);
  HashedTfidf tfidf;
  tfidf.fit(titles);  // unsupervised: document frequencies, no labels
  std::vector<SparseVector> vectors;
  for (const std::string& title : titles) vectors.push_back(tfidf.transform(title));

  std::mt19937_64 rng(options.seed);
  for (std::string_view split : kSplits) {
    std::vector<size_t> members;
    std::map<std::string, std::vector<size_t>> of_group;
    for (size_t i = 0; i < catalog.listings.size(); ++i) {
      if (out.split[i] != split) continue;
      members.push_back(i);
      of_group[catalog.product_of[i]].push_back(i);
    }
    std::set<std::pair<size_t, size_t>> seen;
    auto add_pair = [&](size_t a, size_t b, bool match) {
      if (seen.insert(std::minmax(a, b)).second)
        catalog.labels.push_back(
            {catalog.listings[a].id, catalog.listings[b].id, match, std::string(split)});
    };
    for (const auto& [group, listings] : of_group)
      for (size_t x = 0; x < listings.size(); ++x)
        for (size_t y = x + 1; y < listings.size(); ++y) add_pair(listings[x], listings[y], true);
    for (size_t i : members) {
      std::vector<std::pair<float, size_t>> others;  // (-cosine, index): nearest first
      for (size_t j : members)
        if (catalog.product_of[j] != catalog.product_of[i])
          others.emplace_back(-HashedTfidf::cosine(vectors[i], vectors[j]), j);
      const size_t nearest = std::min(options.nearest_negatives, others.size());
      std::partial_sort(others.begin(), others.begin() + long(nearest), others.end());
      for (size_t n = 0; n < nearest; ++n) add_pair(i, others[n].second, false);
      for (size_t n = 0; n < options.random_negatives && !others.empty(); ++n)
        add_pair(i, others[rng() % others.size()].second, false);
    }
  }
  return out;
}

void write_shopee_benchmark(const ShopeeBenchmark& benchmark, const fs::path& dir) {
  write_synth_catalog(benchmark.catalog, dir);
  for (std::string_view split : kSplits) {
    write_clusters(benchmark.catalog, dir / fmt::format("clusters_{}.csv", split),
                   [&](size_t i) { return benchmark.split[i] == split; });
  }
}

}  // namespace doppel
