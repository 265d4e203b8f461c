// Unit tests of the pipeline: workspace, labelled pairs, candidates, the pair featurizer, and one
// end-to-end run of every job on a small synthesized catalog. Everything is written into a fresh
// temporary folder that the test removes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "index/vector_index.h"
#include "pipeline/bootstrap_labels.h"
#include "pipeline/candidates.h"
#include "pipeline/decider_job.h"
#include "pipeline/dedup_job.h"
#include "pipeline/eval_job.h"
#include "pipeline/feature_layout.h"
#include "pipeline/index_job.h"
#include "pipeline/ingest_job.h"
#include "pipeline/labeled_pairs.h"
#include "pipeline/match_models.h"
#include "pipeline/pair_featurizer.h"
#include "pipeline/recent_listings.h"
#include "pipeline/text_jobs.h"
#include "pipeline/text_model_jobs.h"
#include "pipeline/workspace.h"
#include "synth/catalog_synth.h"
#include "util/error.h"

namespace doppel {
namespace {

using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

namespace fs = std::filesystem;

// A fresh folder under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "doppel-pipeline-test-XXXXXX").string();
    if (!mkdtemp(pattern.data())) ADD_FAILURE() << "mkdtemp failed for " << pattern;
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A classical text encoder small enough for a test catalog of a few hundred listings.
ClassicalTextEncoder::Options small_text_encoder() {
  ClassicalTextEncoder::Options text;
  text.hash_bits = 16;
  text.fold_dim = 256;
  text.out_dim = 32;
  return text;
}

size_t feature_index(std::string_view name) {
  const auto& names = pair_feature_names();
  const auto it = std::find(names.begin(), names.end(), name);
  EXPECT_NE(it, names.end()) << name;
  return static_cast<size_t>(it - names.begin());
}

// Lines of a text file, without the line ends.
std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// (id, cluster_id) rows of a clusters.csv, in file order, after checking the header.
std::vector<std::pair<std::string, std::string>> read_clusters(const fs::path& path) {
  const auto lines = read_lines(path);
  std::vector<std::pair<std::string, std::string>> rows;
  if (lines.empty() || lines[0] != "id,cluster_id") {
    ADD_FAILURE() << path << ": no header id,cluster_id";
    return rows;
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto comma = lines[i].find(',');
    if (comma == std::string::npos) {
      ADD_FAILURE() << path << ": bad row " << lines[i];
      continue;
    }
    rows.emplace_back(lines[i].substr(0, comma), lines[i].substr(comma + 1));
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Workspace

TEST(Workspace, InitCreatesLayoutAndEmptyCatalog) {
  TempDir tmp;
  const fs::path root = tmp.path() / "ws";
  auto ws = Workspace::init(root);
  EXPECT_EQ(ws.root(), root);
  EXPECT_TRUE(fs::is_regular_file(root / "catalog.db"));
  EXPECT_TRUE(fs::is_directory(root / "models"));
  EXPECT_TRUE(fs::is_directory(root / "index"));
  EXPECT_TRUE(fs::is_directory(root / "reports"));
  EXPECT_EQ(ws.catalog_path(), root / "catalog.db");
  EXPECT_EQ(ws.tfidf_dir(), root / "models" / "tfidf");
  EXPECT_EQ(ws.decider_dir(), root / "models" / "decider");
  EXPECT_EQ(ws.index_path("text"), root / "index" / "text.index");
  EXPECT_EQ(ws.reports_dir(), root / "reports");
  EXPECT_EQ(ws.catalog().size(), 0u);
}

TEST(Workspace, InitRefusesAnExistingWorkspaceAndKeepsItsData) {
  TempDir tmp;
  const fs::path root = tmp.path() / "ws";
  {
    auto ws = Workspace::init(root);
    std::vector<Listing> listings(1);
    listings[0].id = "a";
    listings[0].title = "Apple iPhone 13 128GB";
    ws.catalog().upsert(listings);
  }
  EXPECT_THROW(Workspace::init(root), Error);
  auto reopened = Workspace::open(root);
  EXPECT_EQ(reopened.catalog().size(), 1u);
  ASSERT_TRUE(reopened.catalog().get("a").has_value());
}

TEST(Workspace, OpenOfANonWorkspaceTellsTheUserToRunInit) {
  TempDir tmp;
  for (const fs::path& root : {tmp.path(), tmp.path() / "missing"}) {
    try {
      Workspace::open(root);
      ADD_FAILURE() << "no Error for " << root;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("doppel init"), std::string::npos) << e.what();
    }
  }
  EXPECT_FALSE(fs::exists(tmp.path() / "catalog.db"));  // open never creates a workspace
}

// ---------------------------------------------------------------------------------------------
// pretraining_texts

TEST(PretrainingTexts, DittoPairFilesNamedTxtGiveTheirListingsAndOtherTxtGivesLines) {
  TempDir tmp;
  auto ws = Workspace::init(tmp.path() / "ws");
  const fs::path pairs = tmp.path() / "test.txt";
  std::ofstream(pairs) << "COL title VAL Sony A1 COL price VAL 9\tCOL title VAL Sony A1 black\t1\n"
                          "COL title VAL Sony A1 COL price VAL 9\tCOL title VAL Sony B2\t0\n";
  const fs::path plain = tmp.path() / "titles.txt";
  std::ofstream(plain) << "first title\n\nSony B2\n";
  // Each record's title once, no "COL"/"VAL" markers and no labels; the plain file line by line,
  // its repeat of a Ditto title dropped.
  EXPECT_EQ(pretraining_texts(ws, {pairs, plain}),
            (std::vector<std::string>{"Sony A1", "Sony A1 black", "Sony B2", "first title"}));
}

// ---------------------------------------------------------------------------------------------
// labeled_pairs and hold_out

TEST(LabeledPairs, ReadsOneSplitOrAllWithLabelsInKeyOrder) {
  TempDir tmp;
  auto ws = Workspace::init(tmp.path() / "ws");
  std::vector<Listing> listings(4);
  for (size_t i = 0; i < listings.size(); ++i) {
    listings[i].id = "L" + std::to_string(i);
    listings[i].title = "product " + std::to_string(i);
  }
  std::vector<LabeledPair> labels = {
      {"L1", "L0", true, "train"},  // stored as (key L0, key L1)
      {"L2", "L3", false, "train"},
      {"L0", "L3", true, "test"},
  };
  ws.catalog().ingest(listings, labels);
  const auto key = [&](size_t i) { return listings[i].key; };

  auto train = labeled_pairs(ws.catalog(), "train");
  ASSERT_EQ(train.pairs.size(), 2u);
  ASSERT_EQ(train.labels.size(), 2u);
  EXPECT_EQ(train.pairs[0], KeyPair(key(0), key(1)));
  EXPECT_EQ(train.labels[0], 1);
  EXPECT_EQ(train.pairs[1], KeyPair(key(2), key(3)));
  EXPECT_EQ(train.labels[1], 0);
  EXPECT_EQ(train.positives(), 1u);

  auto all = labeled_pairs(ws.catalog(), "");
  EXPECT_EQ(all.pairs.size(), 3u);
  EXPECT_EQ(all.positives(), 2u);
  EXPECT_TRUE(labeled_pairs(ws.catalog(), "valid").pairs.empty());
}

LabeledKeyPairs many_pairs(size_t n) {
  LabeledKeyPairs all;
  for (size_t i = 0; i < n; ++i) {
    const auto a = static_cast<int64_t>(i / 7), b = static_cast<int64_t>(1000 + i);
    all.pairs.emplace_back(a, b);
    all.labels.push_back(static_cast<uint8_t>((a + b) % 3 == 0));  // a label tied to its pair
  }
  return all;
}

TEST(HoldOut, DeterministicDisjointCoveringAndRoughlyTheFraction) {
  const auto all = many_pairs(2000);
  const auto [train, valid] = hold_out(all, 0.2);
  const auto [train2, valid2] = hold_out(all, 0.2);
  EXPECT_EQ(train.pairs, train2.pairs);
  EXPECT_EQ(valid.pairs, valid2.pairs);
  EXPECT_EQ(train.labels, train2.labels);
  EXPECT_EQ(valid.labels, valid2.labels);

  ASSERT_EQ(train.pairs.size(), train.labels.size());
  ASSERT_EQ(valid.pairs.size(), valid.labels.size());
  EXPECT_EQ(train.pairs.size() + valid.pairs.size(), all.pairs.size());
  const std::set<KeyPair> train_set(train.pairs.begin(), train.pairs.end());
  const std::set<KeyPair> valid_set(valid.pairs.begin(), valid.pairs.end());
  for (const auto& p : valid.pairs) EXPECT_EQ(train_set.count(p), 0u);
  std::set<KeyPair> both = train_set;
  both.insert(valid_set.begin(), valid_set.end());
  EXPECT_EQ(both, std::set<KeyPair>(all.pairs.begin(), all.pairs.end()));

  // Labels travel with their pairs.
  for (const auto* part : {&train, &valid})
    for (size_t i = 0; i < part->pairs.size(); ++i)
      EXPECT_EQ(part->labels[i], (part->pairs[i].first + part->pairs[i].second) % 3 == 0);

  const double share = static_cast<double>(valid.pairs.size()) / all.pairs.size();
  EXPECT_NEAR(share, 0.2, 0.05);
}

TEST(LabeledPairs, WithoutDropsThePairsTheOtherHoldsInEitherOrder) {
  LabeledKeyPairs a{{{1, 2}, {3, 4}, {5, 6}}, {1, 0, 1}};
  LabeledKeyPairs b{{{4, 3}, {7, 8}}, {1, 1}};
  const auto rest = without(a, b);
  EXPECT_EQ(rest.pairs, (std::vector<KeyPair>{{1, 2}, {5, 6}}));
  EXPECT_EQ(rest.labels, (std::vector<uint8_t>{1, 1}));
  EXPECT_EQ(without(a, {}).pairs, a.pairs);
}

TEST(HoldOut, EdgeFractions) {
  const auto all = many_pairs(500);
  EXPECT_TRUE(hold_out(all, 0.0).second.pairs.empty());
  EXPECT_TRUE(hold_out(all, 1.0).first.pairs.empty());
  const auto none = hold_out(LabeledKeyPairs{}, 0.2);
  EXPECT_TRUE(none.first.pairs.empty());
  EXPECT_TRUE(none.second.pairs.empty());
}

TEST(RandomNegatives, AvoidLabelledPairsTheirMatchesAndRepeats) {
  std::vector<int64_t> keys(12);
  for (size_t i = 0; i < keys.size(); ++i) keys[i] = static_cast<int64_t>(100 + i);
  LabeledKeyPairs labelled;
  labelled.pairs = {{100, 101}, {101, 102}, {103, 104}};  // 100~101~102 match; 103 != 104
  labelled.labels = {1, 1, 0};
  const size_t all_pairs = keys.size() * (keys.size() - 1) / 2;  // 66
  const size_t allowed = all_pairs - 3 /* inside 100~101~102 */ - 1 /* (103, 104) */;

  const auto drawn = random_negatives(keys, labelled, 40, 7);
  ASSERT_EQ(drawn.pairs.size(), 40u);
  EXPECT_EQ(drawn.positives(), 0u);
  std::set<KeyPair> seen;
  for (const auto& [a, b] : drawn.pairs) {
    EXPECT_LT(a, b);
    EXPECT_TRUE(a >= 100 && b <= 111) << a << "," << b;
    EXPECT_FALSE(a <= 102 && b <= 102) << "inside a chain of matches: " << a << "," << b;
    EXPECT_NE(KeyPair(a, b), KeyPair(103, 104));
    EXPECT_TRUE(seen.insert({a, b}).second) << "drawn twice: " << a << "," << b;
  }
  EXPECT_EQ(random_negatives(keys, labelled, 40, 7).pairs, drawn.pairs);  // seeded
  EXPECT_NE(random_negatives(keys, labelled, 40, 8).pairs, drawn.pairs);

  // Asked for more than there are: every allowed pair once, and no more.
  const auto exhausted = random_negatives(keys, labelled, 1000, 7);
  EXPECT_EQ(exhausted.pairs.size(), allowed);
  EXPECT_EQ(std::set<KeyPair>(exhausted.pairs.begin(), exhausted.pairs.end()).size(), allowed);
  EXPECT_TRUE(random_negatives(std::span(keys).first(1), labelled, 5, 7).pairs.empty());
}

// A catalog whose labelled pairs are all alike, as a benchmark's blocking makes them: a product's
// two listings share its brand and name and little else, and its sibling (another product)
// shares all but the name. Unrelated listings share nothing and are never labelled.
struct BlockedCatalog {
  std::vector<Listing> listings;
  std::vector<LabeledPair> labels;
  std::vector<std::pair<std::string, std::string>> unrelated;  // unlabelled pairs of products
};

BlockedCatalog blocked_catalog(size_t products) {
  std::mt19937_64 rng(11);
  auto word = [&] {  // letters only, so that no word reads as a model code
    std::string w(7, 'a');
    for (char& c : w) c = static_cast<char>('a' + rng() % 26);
    return w;
  };
  auto words = [&](size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += " " + word();
    return out;
  };
  auto listing = [](std::string id, std::string title) {
    Listing l;
    l.id = std::move(id);
    l.title = std::move(title);
    return l;
  };
  BlockedCatalog c;
  for (size_t p = 0; p < products; ++p) {
    const std::string id = std::to_string(p), brand = word(), filler = words(4);
    c.listings.push_back(listing("a" + id, brand + " " + word() + filler));
    const std::string name = c.listings.back().title.substr(brand.size() + 1, 7);
    c.listings.push_back(listing("b" + id, brand + " " + name + words(4)));
    c.listings.push_back(listing("s" + id, brand + " " + word() + filler));
    const std::string split = p % 4 == 0 ? "valid" : "train";
    c.labels.push_back({"a" + id, "b" + id, true, split});
    c.labels.push_back({"a" + id, "s" + id, false, split});
    if (p > 0) c.unrelated.emplace_back("a" + id, "b" + std::to_string(p - 1));
  }
  return c;
}

TEST(TrainDecider, RandomCatalogPairsTeachItThatUnrelatedListingsDiffer) {
  TempDir tmp;
  auto ws = Workspace::init(tmp.path() / "ws");
  auto catalog = blocked_catalog(120);
  ws.catalog().ingest(catalog.listings, catalog.labels);
  train_tfidf(ws, small_text_encoder());
  embed_text(ws);

  // The share of unrelated pairs the decider trained with `random_negatives` calls matches.
  auto unrelated_accepted = [&](double random_negatives) {
    DeciderOptions options;
    options.threads = 1;
    options.xgboost.rounds = 100;
    options.random_negatives = random_negatives;
    const auto trained = train_decider(ws, options);
    EXPECT_EQ(trained.random_negatives,
              static_cast<size_t>(random_negatives * trained.train_pairs));
    EXPECT_GT(trained.valid_metrics.f1, 0.9) << "random_negatives " << random_negatives;
    const auto models = MatchModels::load(ws, /*need_decider=*/true, /*need_index=*/false);
    std::vector<KeyPair> pairs;
    for (const auto& [a, b] : catalog.unrelated)
      pairs.emplace_back(*ws.catalog().key_of(a), *ws.catalog().key_of(b));
    const auto scores = score_pairs(*models.featurizer, *models.decider, pairs);
    const auto accepted = std::count_if(scores.begin(), scores.end(),
                                        [&](float s) { return s >= models.decider->threshold(); });
    return static_cast<double>(accepted) / static_cast<double>(pairs.size());
  };
  // Labelled pairs alone teach "sharing little means one product": the failure this guards.
  EXPECT_GT(unrelated_accepted(0), 0.5);
  EXPECT_LT(unrelated_accepted(1), 0.05);
}

// ---------------------------------------------------------------------------------------------
// Candidates

ClassicalTextEncoder::Options small_classical_options() {
  ClassicalTextEncoder::Options options;
  options.hash_bits = 10;
  options.fold_dim = 16;
  options.out_dim = 2;
  return options;
}

// Listings 1..n with distinct titles, vectors on the unit circle at angle key * 0.3 rad, except
// the keys in `without_vector`.
struct SmallCatalog {
  std::vector<Listing> listings;
  CatalogStore::VectorSet vectors;
  std::optional<ClassicalTextEncoder> classical;

  SmallCatalog(int n, std::set<int64_t> without_vector) {
    vectors.dim = 2;
    for (int64_t key = 1; key <= n; ++key) {
      Listing l;
      l.key = key;
      l.id = "id" + std::to_string(key);
      l.title = "widget model w" + std::to_string(100 + key) + " size " + std::to_string(key);
      listings.push_back(l);
      if (without_vector.count(key)) continue;
      vectors.keys.push_back(key);
      vectors.data.push_back(static_cast<float>(std::cos(0.3 * key)));
      vectors.data.push_back(static_cast<float>(std::sin(0.3 * key)));
    }
    refit();
  }
  // Fits the classical encoder (TF-IDF, PCA) to the listings: again after a test changed them.
  void refit() {
    classical.emplace(ClassicalTextEncoder::fit(listings, small_classical_options()));
  }
  PairFeaturizer featurizer(FeatureLayout layout = {}) const {
    return PairFeaturizer(listings, *classical, vectors, {}, layout);
  }
  std::vector<int64_t> keys() const {
    std::vector<int64_t> out;
    for (const auto& l : listings) out.push_back(l.key);
    return out;
  }
  std::unique_ptr<VectorIndex> flat_index() const {
    auto index = make_index("Flat", vectors.dim);
    index->add(vectors.keys.size(), vectors.data.data(), vectors.keys.data());
    return index;
  }
};

// A dedup shard searches from its listings' vectors alone, without a featurizer: same neighbours.
TEST(Candidates, NeighboursOfStoredVectorsAreTheFeaturizersNeighbours) {
  const SmallCatalog catalog(8, {5});
  const auto featurizer = catalog.featurizer();
  const auto index = catalog.flat_index();
  const auto keys = catalog.keys();
  const auto from_featurizer = nearest_neighbours(*index, featurizer, keys, 3);
  const auto from_vectors = nearest_neighbours(*index, catalog.vectors, 3);
  ASSERT_EQ(from_vectors.size(), from_featurizer.size());
  for (const auto& [key, list] : from_featurizer) {
    ASSERT_TRUE(from_vectors.count(key)) << key;
    const auto& other = from_vectors.at(key);
    ASSERT_EQ(other.size(), list.size()) << key;
    for (size_t i = 0; i < list.size(); ++i) {
      EXPECT_EQ(other[i].key, list[i].key);
      EXPECT_EQ(other[i].similarity, list[i].similarity);
    }
  }
  EXPECT_EQ(keys_of(std::vector<KeyPair>{{4, 2}, {2, 7}, {1, 4}}),
            (std::vector<int64_t>{1, 2, 4, 7}));
}

TEST(Candidates, NearestNeighboursExcludeTheQueryAndReturnAtMostK) {
  const SmallCatalog catalog(8, {5});
  const auto featurizer = catalog.featurizer();
  const auto index = catalog.flat_index();
  const auto keys = catalog.keys();

  for (int k : {1, 2, 3, 20}) {
    const auto neighbours = nearest_neighbours(*index, featurizer, keys, k);
    EXPECT_EQ(neighbours.count(5), 0u) << "key 5 has no vector";
    EXPECT_EQ(neighbours.size(), 7u);
    for (const auto& [key, list] : neighbours) {
      // 7 vectors in the index: at most 6 others.
      EXPECT_EQ(list.size(), static_cast<size_t>(std::min(k, 6))) << "key " << key;
      for (size_t i = 0; i < list.size(); ++i) {
        EXPECT_NE(list[i].key, key);
        EXPECT_NE(list[i].key, 5);
        if (i > 0) {
          EXPECT_GE(list[i - 1].similarity, list[i].similarity);
        }
      }
    }
  }
  // Angles are 0.3 rad apart: the nearest of key 3 are 2 and 4 (0.3 rad), then 1 (0.6 rad; 5 has
  // no vector), with similarity cos(angle).
  const auto neighbours = nearest_neighbours(*index, featurizer, keys, 3);
  const auto& list = neighbours.at(3);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(std::set<int64_t>({list[0].key, list[1].key}), std::set<int64_t>({2, 4}));
  EXPECT_EQ(list[2].key, 1);
  EXPECT_NEAR(list[0].similarity, std::cos(0.3), 1e-5);
  EXPECT_NEAR(list[2].similarity, std::cos(0.6), 1e-5);
}

TEST(Candidates, CandidatePairsAreUniqueWithTheSmallerKeyFirst) {
  const std::unordered_map<int64_t, std::vector<Neighbour>> neighbours = {
      {1, {{2, 0.9f}, {3, 0.8f}}},
      {2, {{1, 0.9f}}},             // (2,1) duplicates (1,2)
      {7, {{4, 0.7f}, {1, 0.1f}}},  // reversed: (4,7), (1,7)
      {9, {}},
  };
  const auto pairs = candidate_pairs(neighbours);
  const std::vector<KeyPair> expected = {{1, 2}, {1, 3}, {1, 7}, {4, 7}};
  EXPECT_EQ(pairs, expected);
}

TEST(Candidates, IndexInFindsAKeyInAscendingKeys) {
  const std::vector<int64_t> keys = {2, 5, 9};
  EXPECT_EQ(index_in(keys, 2), 0u);
  EXPECT_EQ(index_in(keys, 9), 2u);
  EXPECT_EQ(index_in(keys, 5), 1u);
  EXPECT_EQ(index_in(keys, 4), std::nullopt);
  EXPECT_EQ(index_in(keys, 10), std::nullopt);
  EXPECT_EQ(index_in({}, 1), std::nullopt);
}

TEST(Candidates, RecallCountsEitherDirectionWithinK) {
  const std::unordered_map<int64_t, std::vector<Neighbour>> neighbours = {
      {1, {{2, 0.9f}, {3, 0.8f}, {4, 0.7f}}},
      {6, {{5, 0.9f}}},
  };
  // (1,2) found from 1; (5,6) found from 6 (5 has no list); (1,4) only at rank 3.
  const std::vector<KeyPair> pairs = {{1, 2}, {5, 6}, {1, 4}};
  EXPECT_NEAR(candidate_recall(pairs, neighbours, 2), 2.0 / 3.0, 1e-4);
  EXPECT_NEAR(candidate_recall(pairs, neighbours, 3), 1.0, 1e-12);
  EXPECT_NEAR(candidate_recall(pairs, neighbours, 1), 2.0 / 3.0, 1e-12);
  const std::vector<KeyPair> missing = {{2, 3}, {8, 9}};
  EXPECT_EQ(candidate_recall(missing, neighbours, 10), 0.0);
  EXPECT_EQ(candidate_recall({}, neighbours, 10), 0.0);
}

// ---------------------------------------------------------------------------------------------
// PairFeaturizer

// ---------------------------------------------------------------------------------------------
// Bootstrap labels

// Listings 1..n with these titles, and a featurizer over them with the pair features.
struct TitledListings {
  std::vector<Listing> listings;
  std::optional<ClassicalTextEncoder> classical;

  explicit TitledListings(std::vector<std::string> titles) {
    for (size_t i = 0; i < titles.size(); ++i) {
      Listing l;
      l.key = static_cast<int64_t>(i + 1);
      l.id = "id" + std::to_string(i + 1);
      l.title = titles[i];
      listings.push_back(l);
    }
    classical.emplace(ClassicalTextEncoder::fit(listings, small_classical_options()));
  }
  PairFeaturizer featurizer(FeatureLayout layout = {}) const {
    return PairFeaturizer(listings, *classical, {}, {}, layout);
  }
};

TEST(BootstrapLabels, RulesLabelWhatTheyAreSureOfAndLeaveTheRest) {
  const TitledListings catalog({
      "acme router rt1200x black",          // 1
      "acme rt1200x wireless router",       // 2: 1's model code alone: same codes
      "acme router rt1300x black",          // 3: a code, none of 1's: disjoint codes
      "blue cotton bath towel large soft",  // 4
      "large soft blue cotton bath towel",  // 5: 4's best, and 4 is its: mutual best
      "garden hose reel",                   // 6: far below 4's best
      "blue cotton bath towel small soft",  // 7: near 4 and 5, best of neither
  });
  const auto featurizer = catalog.featurizer();
  const std::vector<KeyPair> candidates = {{1, 2}, {1, 3}, {4, 5}, {4, 6}, {4, 7}, {5, 7}};
  const auto labels = bootstrap_labels(featurizer, candidates);
  EXPECT_EQ(labels.same_codes, 1u);
  EXPECT_EQ(labels.mutual_best, 1u);
  EXPECT_EQ(labels.disjoint_codes, 1u);
  EXPECT_EQ(labels.far_from_best, 1u);
  const std::vector<KeyPair> expected_pairs = {{1, 2}, {4, 5}, {1, 3}, {4, 6}};
  EXPECT_EQ(labels.labelled.pairs, expected_pairs);
  EXPECT_EQ(labels.labelled.labels, (std::vector<uint8_t>{1, 1, 0, 0}));

  // A code that more than kMaxCodeGroup listings hold names a product line, not a product.
  const auto same_codes_among = [](size_t holders) {
    std::vector<std::string> titles;
    for (size_t i = 0; i < holders; ++i)
      titles.push_back("acme kit kx1000 part " + std::to_string(i));
    BootstrapRules no_mutual_best;
    no_mutual_best.min_cosine = 2;
    return bootstrap_labels(TitledListings(titles).featurizer(), std::vector<KeyPair>{{1, 2}},
                            no_mutual_best)
        .same_codes;
  };
  EXPECT_EQ(same_codes_among(3), 1u);
  EXPECT_EQ(same_codes_among(kMaxCodeGroup + 1), 0u);
}

TEST(BootstrapLabels, WithoutThePairFeaturesAreAnErrorNamingTheFeature) {
  const TitledListings catalog({"acme router rt1200x", "acme rt1200x router"});
  try {
    bootstrap_labels(catalog.featurizer(FeatureLayout::parse("text")),
                     std::vector<KeyPair>{{1, 2}});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("tfidf_cosine"));
    EXPECT_THAT(e.what(), HasSubstr("'pair'"));
  }
}

bool same_bits(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b);
}

TEST(PairFeaturizer, FeaturesAreSymmetricBitForBit) {
  SmallCatalog catalog(6, {2});
  catalog.listings[0].title = "Sony DSC-W120 camera 7.2MP silver";
  catalog.listings[0].brand = "Sony";
  catalog.listings[0].price = 99.0;
  catalog.listings[1].title = "Sony Cyber-shot W120 7.2 MP";
  catalog.listings[2].title = "SAMSUNG 128GB Galaxy S21 black";
  catalog.listings[2].price = 700.0;
  catalog.listings[3].title = "galaxy s21 128 gb schwarz";
  catalog.listings[3].brand = "Samsung";
  catalog.refit();
  const auto featurizer = catalog.featurizer(FeatureLayout::parse("pair,text,classical"));
  const int width = featurizer.width();
  ASSERT_EQ(width, kNumPairFeatures + 1);

  std::vector<KeyPair> pairs, reversed;
  for (int64_t a = 1; a <= 6; ++a)
    for (int64_t b = 1; b <= 6; ++b)
      if (a != b) {
        pairs.emplace_back(a, b);
        reversed.emplace_back(b, a);
      }
  const auto f = featurizer.features(pairs);
  const auto r = featurizer.features(reversed);
  ASSERT_EQ(f.size(), pairs.size() * width);
  ASSERT_EQ(r.size(), f.size());
  const auto names = featurizer.layout().names();
  for (size_t p = 0; p < pairs.size(); ++p)
    for (int j = 0; j < width; ++j) {
      const size_t at = p * width + j;
      EXPECT_TRUE(same_bits(f[at], r[at])) << names[j] << " of (" << pairs[p].first << ","
                                           << pairs[p].second << "): " << f[at] << " vs " << r[at];
    }
}

TEST(PairFeaturizer, ClassicalCosineIsTheClassicalVectorsCosineBesideTheStoredOne) {
  SmallCatalog catalog(5, {});
  catalog.listings[4].title = "";  // no tokens: no classical vector
  catalog.refit();
  const auto featurizer = catalog.featurizer(FeatureLayout::parse("pair,text,classical"));
  const auto names = featurizer.layout().names();
  ASSERT_EQ(names.back(), "classical_cosine");
  const size_t column = names.size() - 1;

  std::vector<float> encoded(catalog.listings.size() * 2);
  catalog.classical->encode(catalog.listings, encoded.data());
  const auto expected = [&](int64_t a, int64_t b) {
    const float* u = encoded.data() + (a - 1) * 2;
    const float* v = encoded.data() + (b - 1) * 2;
    return u[0] * v[0] + u[1] * v[1];
  };
  const std::vector<KeyPair> pairs = {{1, 2}, {1, 3}, {2, 4}, {1, 5}};
  const auto f = featurizer.features(pairs);
  for (size_t p = 0; p < 3; ++p)
    EXPECT_NEAR(f[p * names.size() + column], expected(pairs[p].first, pairs[p].second), 1e-5);
  EXPECT_NEAR(f[column], expected(1, 2), 1e-5);
  EXPECT_TRUE(std::isnan(f[3 * names.size() + column])) << "a listing without tokens";
  // The stored (here: circle) vectors stay in vector_cosine: the two cosines are different columns.
  EXPECT_NEAR(f[feature_index("vector_cosine")], std::cos(0.3), 1e-5);

  // A query listing that is not in the catalog is encoded on the fly, as a stored one is.
  const Listing query = catalog.listings[0];
  const std::vector<int64_t> candidates = {3};
  const std::vector<float> query_vector = {catalog.vectors.data[0], catalog.vectors.data[1]};
  EXPECT_NEAR(featurizer.features_against(query, query_vector, candidates)[column], expected(1, 3),
              1e-5);
}

TEST(FeatureLayout, NamesRoundTripAndGroupsParse) {
  for (const char* groups :
       {"pair,text", "text", "image", "text,image", "pair,text,image", "text,blocks",
        "image,blocks", "pair,text,image,blocks", "pair,text,classical", "classical,image"}) {
    FeatureLayout layout = FeatureLayout::parse(groups);
    EXPECT_EQ(layout.groups(), groups);
    layout.text_dim = layout.blocks && layout.text ? 3 : 0;
    layout.image_dim = layout.blocks && layout.image ? 2 : 0;
    const auto back = FeatureLayout::from_names(layout.names(), "test");
    EXPECT_EQ(back.names(), layout.names()) << groups;
    EXPECT_EQ(back.groups(), groups);
  }
  EXPECT_EQ(FeatureLayout::parse("pair").groups(), "pair,text");  // pair holds the text cosine
  EXPECT_EQ(FeatureLayout::parse("pair,text,image").width(), kNumPairFeatures + 2);
  EXPECT_THROW(FeatureLayout::parse("pair,colour"), Error);
  EXPECT_THROW(FeatureLayout::parse("blocks").validate(), Error);
  EXPECT_THROW(FeatureLayout::from_names({"vector_cosine", "mystery"}, "test"), Error);
}

TEST(PairFeaturizer, FourVectorFeaturesAreSymmetricAndAMissingImageIsExplicit) {
  SmallCatalog catalog(4, {});
  CatalogStore::VectorSet images;  // keys 1..3 have an image vector, key 4 has none
  images.dim = 2;
  for (int64_t key = 1; key <= 3; ++key) {
    images.keys.push_back(key);
    images.data.push_back(key == 3 ? 0.0f : 1.0f);
    images.data.push_back(key == 3 ? 1.0f : 0.0f);
  }
  const PairFeaturizer featurizer(catalog.listings, *catalog.classical, catalog.vectors, images,
                                  FeatureLayout::parse("text,image,blocks"));
  // vector_cosine, image_cosine, images_present, text |a-b| (2), text a*b (2), image (2 + 2)
  ASSERT_EQ(featurizer.width(), 11);
  const std::vector<KeyPair> pairs = {{1, 2}, {2, 1}, {1, 3}, {1, 4}, {4, 1}};
  const auto f = featurizer.features(pairs);
  const auto row = [&](size_t p) { return f.data() + p * featurizer.width(); };
  EXPECT_NEAR(row(0)[1], 1.0f, 1e-6);  // same image direction
  EXPECT_EQ(row(0)[2], 2.0f);
  EXPECT_NEAR(row(2)[1], 0.0f, 1e-6);  // orthogonal images
  EXPECT_TRUE(std::isnan(row(3)[1]));  // key 4 has no image: missing, not 0
  EXPECT_EQ(row(3)[2], 1.0f);
  EXPECT_TRUE(std::isnan(row(3)[7]));   // its image block is missing too
  EXPECT_FALSE(std::isnan(row(3)[3]));  // while its text block is there
  for (int j = 0; j < featurizer.width(); ++j) {
    EXPECT_TRUE(same_bits(row(0)[j], row(1)[j])) << "column " << j;
    EXPECT_TRUE(same_bits(row(3)[j], row(4)[j])) << "column " << j;
  }
  EXPECT_NEAR(row(0)[3], std::fabs(std::cos(0.3) - std::cos(0.6)), 1e-6);  // |a-b|
  EXPECT_NEAR(row(0)[5], std::cos(0.3) * std::cos(0.6), 1e-6);             // a*b

  // An online query carries its own image vector, or none.
  Listing query = catalog.listings[0];
  const std::vector<float> text = {1.0f, 0.0f}, image = {0.0f, 1.0f};
  const std::vector<int64_t> candidates = {3};
  EXPECT_NEAR(featurizer.features_against(query, text, candidates, image)[1], 1.0f, 1e-6);
  EXPECT_TRUE(std::isnan(featurizer.features_against(query, text, candidates)[1]));
  const std::vector<float> wrong = {1.0f, 0.0f, 0.0f};
  EXPECT_THROW(featurizer.features_against(query, text, candidates, wrong), Error);
}

TEST(PairFeaturizer, VectorCosineIsNaNWithoutAStoredVector) {
  const SmallCatalog catalog(4, {2});
  const auto featurizer = catalog.featurizer();
  EXPECT_EQ(featurizer.size(), 4u);
  EXPECT_EQ(featurizer.text_dim(), 2);
  EXPECT_EQ(featurizer.text_vector(2), nullptr);
  ASSERT_NE(featurizer.text_vector(1), nullptr);

  const size_t cosine = feature_index("vector_cosine");
  const std::vector<KeyPair> pairs = {{1, 2}, {2, 3}, {1, 3}};
  const auto f = featurizer.features(pairs);
  EXPECT_TRUE(std::isnan(f[0 * kNumPairFeatures + cosine]));
  EXPECT_TRUE(std::isnan(f[1 * kNumPairFeatures + cosine]));
  // Keys 1 and 3 are 0.6 rad apart on the unit circle.
  EXPECT_NEAR(f[2 * kNumPairFeatures + cosine], std::cos(0.6), 1e-5);

  // No vectors at all: missing for every pair.
  const PairFeaturizer no_vectors(catalog.listings, *catalog.classical, CatalogStore::VectorSet{});
  EXPECT_EQ(no_vectors.text_dim(), 0);
  EXPECT_TRUE(std::isnan(no_vectors.features(pairs)[2 * kNumPairFeatures + cosine]));
}

TEST(PairFeaturizer, UnknownKeyIsAnErrorNamingTheKey) {
  const SmallCatalog catalog(3, {});
  const auto featurizer = catalog.featurizer();
  EXPECT_TRUE(featurizer.contains(3));
  EXPECT_FALSE(featurizer.contains(987654));
  const std::vector<KeyPair> pairs = {{1, 2}, {1, 987654}};
  try {
    featurizer.features(pairs);
    ADD_FAILURE() << "no Error for an unknown key";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("987654"), std::string::npos) << e.what();
  }
  EXPECT_THROW(featurizer.listing(987654), Error);
  EXPECT_THROW(featurizer.text_vector(987654), Error);
}

TEST(PairFeaturizer, FeaturesAgainstAQueryEqualThoseOfTheSameListingStored) {
  const SmallCatalog catalog(5, {});
  auto featurizer = catalog.featurizer();
  Listing query = catalog.listings[2];  // key 3, as a new listing would arrive
  const std::vector<float> vector(featurizer.text_vector(3), featurizer.text_vector(3) + 2);
  const std::vector<int64_t> candidates = {1, 5};
  const auto against = featurizer.features_against(query, vector, candidates);
  const std::vector<KeyPair> pairs = {{3, 1}, {3, 5}};
  const auto stored = featurizer.features(pairs);
  ASSERT_EQ(against.size(), stored.size());
  for (size_t i = 0; i < stored.size(); ++i) EXPECT_TRUE(same_bits(against[i], stored[i])) << i;
  const float wrong[3] = {1, 0, 0};
  EXPECT_THROW(featurizer.features_against(query, wrong, candidates), Error);
}

TEST(PairFeaturizer, UpsertAddsOrReplacesAndRemoveFillsTheGap) {
  const SmallCatalog catalog(4, {});
  auto featurizer = catalog.featurizer();
  const size_t cosine = feature_index("vector_cosine");
  Listing added;
  added.key = 10;
  added.id = "id10";
  added.title = catalog.listings[0].title;
  const float along_1[2] = {static_cast<float>(std::cos(0.3)), static_cast<float>(std::sin(0.3))};
  featurizer.upsert(added, along_1);
  EXPECT_EQ(featurizer.size(), 5u);
  const std::vector<KeyPair> pair = {{1, 10}};
  EXPECT_NEAR(featurizer.features(pair)[cosine], 1.0, 1e-6);

  added.title = "something else entirely";
  featurizer.upsert(added, {});  // replaced, now without a vector
  EXPECT_EQ(featurizer.size(), 5u);
  EXPECT_EQ(featurizer.listing(10).title, "something else entirely");
  EXPECT_TRUE(std::isnan(featurizer.features(pair)[cosine]));

  EXPECT_TRUE(featurizer.remove(2));
  EXPECT_FALSE(featurizer.remove(2));
  EXPECT_FALSE(featurizer.contains(2));
  EXPECT_EQ(featurizer.size(), 4u);
  EXPECT_EQ(featurizer.keys(), (std::vector<int64_t>{1, 10, 3, 4}));  // the last moved to the gap
  // The listing moved into the gap keeps its own data.
  EXPECT_EQ(featurizer.listing(10).title, "something else entirely");
  EXPECT_EQ(featurizer.text_vector(10), nullptr);
  ASSERT_NE(featurizer.text_vector(4), nullptr);
  EXPECT_NEAR(featurizer.text_vector(4)[0], std::cos(1.2), 1e-6);
}

// The server featurises each request's few listings, read from catalog.db, in a featurizer of
// their own: its rows must be the catalog-wide featurizer's, bit for bit.
TEST(PairFeaturizer, AFeaturizerOverAFewListingsGivesTheCatalogWideFeatures) {
  SmallCatalog catalog(7, {3});
  catalog.listings[0].title = "Sony DSC-W120 camera 7.2MP silver";
  catalog.listings[1].title = "Sony Cyber-shot W120 7.2 MP";
  catalog.refit();
  const auto layout = FeatureLayout::parse("pair,text,classical");
  Listing added;
  added.key = 10;
  added.id = "id10";
  added.title = "Sony DSC W120 7.2 megapixel";
  const float added_vector[2] = {0.6f, 0.8f};
  auto whole = catalog.featurizer(layout);
  whole.upsert(added, added_vector);
  ASSERT_TRUE(whole.remove(2));

  const std::vector<int64_t> keys = {10, 1, 4};
  std::vector<Listing> few_listings;
  CatalogStore::VectorSet few_vectors;
  few_vectors.dim = 2;
  for (int64_t key : keys) {
    few_listings.push_back(whole.listing(key));
    few_vectors.keys.push_back(key);
    const float* row = whole.text_vector(key);
    few_vectors.data.insert(few_vectors.data.end(), row, row + 2);
  }
  const PairFeaturizer few(few_listings, *catalog.classical, few_vectors, {}, layout);
  ASSERT_EQ(few.width(), whole.width());

  const std::vector<KeyPair> pairs = {{1, 10}, {4, 10}, {1, 4}};
  const auto w = whole.features(pairs), f = few.features(pairs);
  ASSERT_EQ(w.size(), f.size());
  for (size_t i = 0; i < w.size(); ++i) EXPECT_TRUE(same_bits(w[i], f[i])) << i;
  Listing query = catalog.listings[1];
  query.title = "sony w120 silver";
  const std::vector<float> vector = {1, 0};
  const auto wa = whole.features_against(query, vector, keys);
  const auto fa = few.features_against(query, vector, keys);
  ASSERT_EQ(wa.size(), fa.size());
  for (size_t i = 0; i < wa.size(); ++i) EXPECT_TRUE(same_bits(wa[i], fa[i])) << i;
  EXPECT_FALSE(few.contains(3));
}

// The dedup clustering guard's cache: what it holds gives the catalog-wide featurizer's features,
// and it keeps at most its capacity, dropping the listings it has held longest.
TEST(RecentListings, HoldsWhatWasAskedUpToItsCapacityWithTheCatalogWideFeatures) {
  TempDir tmp;
  const SmallCatalog small(6, {3});
  auto store = CatalogStore::open(tmp.path() / "catalog.db", /*create=*/true);
  std::vector<Listing> listings = small.listings;
  store.upsert(listings);
  std::vector<int64_t> vector_keys;
  for (size_t i = 0; i < listings.size(); ++i)
    if (small.listings[i].key != 3) vector_keys.push_back(listings[i].key);
  store.put_vectors("text", vector_keys, small.vectors.data.data(), small.vectors.dim);
  const auto layout = FeatureLayout::parse("pair,text");
  const PairFeaturizer whole(store.all_listings(), *small.classical, store.vectors("text"), {},
                             layout);
  const auto k = [&](size_t i) { return listings[i].key; };
  RecentListings recent(store, *small.classical, layout, /*capacity=*/3);
  // recent.holding(pairs), after checking its features of `pairs`.
  const auto holding = [&](const std::vector<KeyPair>& pairs) -> const PairFeaturizer& {
    const PairFeaturizer& held = recent.holding(pairs);
    const auto expected = whole.features(pairs), got = held.features(pairs);
    EXPECT_EQ(expected.size(), got.size());
    for (size_t i = 0; i < std::min(expected.size(), got.size()); ++i)
      EXPECT_TRUE(same_bits(expected[i], got[i])) << i;
    return held;
  };

  EXPECT_EQ(holding({{k(0), k(1)}, {k(0), k(2)}}).size(), 3u);  // listing 3 has no vector
  EXPECT_EQ(recent.reads(), 3u);
  holding({{k(1), k(2)}});  // all held: nothing read
  EXPECT_EQ(recent.reads(), 3u);
  const PairFeaturizer& held = holding({{k(3), k(4)}});  // two more: the two held longest go
  EXPECT_EQ(recent.reads(), 5u);
  EXPECT_EQ(held.size(), 3u);
  EXPECT_FALSE(held.contains(k(0)));
  EXPECT_FALSE(held.contains(k(1)));
  EXPECT_TRUE(held.contains(k(2)));
  // More than the capacity, for one call.
  EXPECT_EQ(holding({{k(0), k(1)}, {k(2), k(5)}}).size(), 4u);
  EXPECT_EQ(recent.reads(), 8u);
}

// ---------------------------------------------------------------------------------------------
// End to end, in process: synth -> ingest -> train text -> embed -> index -> train decider ->
// dedup -> eval.

// A generated catalog of 120 products, its listings.csv and pairs.csv written to `dir`.
SynthCatalog synthesized_catalog(const fs::path& dir) {
  SynthOptions synth;
  synth.products = 120;
  synth.seed = 7;
  auto catalog = synthesize_catalog(synth);
  write_synth_catalog(catalog, dir);
  return catalog;
}

TEST(PipelineEndToEnd, DedupsAndEvaluatesASynthesizedCatalog) {
  TempDir tmp;
  const auto catalog = synthesized_catalog(tmp.path() / "data");

  auto ws = Workspace::init(tmp.path() / "ws");
  const auto listings = ingest_file(ws, tmp.path() / "data" / "listings.csv", {}, /*strict=*/true);
  EXPECT_EQ(listings.inserted, catalog.listings.size());
  EXPECT_EQ(listings.skipped, 0u);
  const auto labels = ingest_file(ws, tmp.path() / "data" / "pairs.csv", {}, /*strict=*/true);
  EXPECT_EQ(labels.labels, catalog.labels.size());
  ASSERT_EQ(ws.catalog().size(), catalog.listings.size());

  train_tfidf(ws, small_text_encoder());
  EXPECT_EQ(embed_text(ws).encoded, catalog.listings.size());
  const auto index = build_index(ws, "Flat");
  EXPECT_EQ(index->size(), catalog.listings.size());
  EXPECT_TRUE(fs::exists(ws.index_path("text")));

  DeciderOptions decider;
  decider.xgboost.rounds = 150;
  decider.threads = 1;
  const auto trained = train_decider(ws, decider);
  EXPECT_GT(trained.train_pairs, 0u);
  EXPECT_GT(trained.valid_pairs, 0u);

  DedupOptions dedup;
  dedup.out_dir = tmp.path() / "results";
  // No size cap: with one, either linkage may refuse different merges and the comparison below
  // would not hold.
  dedup.max_cluster_size = catalog.listings.size();
  const auto average = run_dedup(ws, dedup);
  EXPECT_EQ(average.listings, catalog.listings.size());
  EXPECT_GT(average.clusters, 0u);

  // clusters.csv: one row per listing, every id once, every cluster id a listing.
  const auto cluster_of = read_clusters(dedup.out_dir / "clusters.csv");
  std::set<std::string> ids, expected_ids;
  for (const auto& l : catalog.listings) expected_ids.insert(l.id);
  for (const auto& [id, cluster] : cluster_of) {
    ids.insert(id);
    EXPECT_EQ(expected_ids.count(cluster), 1u) << id << "," << cluster;
  }
  EXPECT_EQ(cluster_of.size(), catalog.listings.size());
  EXPECT_EQ(ids, expected_ids);
  EXPECT_EQ(read_lines(dedup.out_dir / "pairs.csv").size(), average.accepted_pairs + 1);

  // The anti-chaining guard can only split: plain connected components are never smaller.
  DedupOptions chained = dedup;
  chained.out_dir = tmp.path() / "results-cc";
  chained.linkage = Linkage::kConnectedComponents;
  const auto components = run_dedup(ws, chained);
  EXPECT_EQ(components.accepted_pairs, average.accepted_pairs);
  EXPECT_GE(components.largest_cluster, average.largest_cluster);
  EXPECT_GE(components.clustered_listings, average.clustered_listings);
  // Stronger: every average-linkage cluster lies inside one connected component.
  const auto component_of = read_clusters(chained.out_dir / "clusters.csv");
  ASSERT_EQ(component_of.size(), cluster_of.size());
  std::map<std::string, std::string> component_of_cluster;
  for (size_t i = 0; i < cluster_of.size(); ++i) {
    ASSERT_EQ(cluster_of[i].first, component_of[i].first);
    const auto it =
        component_of_cluster.emplace(cluster_of[i].second, component_of[i].second).first;
    EXPECT_EQ(it->second, component_of[i].second) << "cluster " << cluster_of[i].second;
  }

  EvalOptions eval;
  eval.out_dir = tmp.path() / "reports";
  const auto evaluated = run_eval(ws, eval);
  EXPECT_EQ(evaluated.split, "test");
  EXPECT_GT(evaluated.pairs, 0u);
  EXPECT_GT(evaluated.at_threshold.f1, 0.75) << "precision " << evaluated.at_threshold.precision
                                             << ", recall " << evaluated.at_threshold.recall;
  EXPECT_EQ(evaluated.random_pairs, eval.random_pairs);
  EXPECT_LT(evaluated.random_pairs_accepted, evaluated.random_pairs / 100);
  EXPECT_TRUE(fs::exists(eval.out_dir / "metrics.json"));
  EXPECT_TRUE(fs::exists(eval.out_dir / "report.md"));
}

TEST(PipelineEndToEnd, ACatalogWithoutLabelsGetsABootstrapDecider) {
  TempDir tmp;
  const auto catalog = synthesized_catalog(tmp.path() / "data");
  auto ws = Workspace::init(tmp.path() / "ws");
  ingest_file(ws, tmp.path() / "data" / "listings.csv", {}, /*strict=*/true);
  train_tfidf(ws, small_text_encoder());
  embed_text(ws);
  build_index(ws, "Flat");

  DeciderOptions decider;
  decider.xgboost.rounds = 150;
  decider.threads = 1;
  EXPECT_THAT([&] { train_decider(ws, decider); }, ThrowsMessage<Error>(HasSubstr("--bootstrap")));
  decider.bootstrap = true;
  const auto trained = train_decider(ws, decider);
  ASSERT_TRUE(trained.bootstrap.has_value());
  EXPECT_GT(trained.bootstrap->matches(), 20u);
  EXPECT_GT(trained.bootstrap->non_matches(), 200u);
  EXPECT_TRUE(trained.valid_held_out);
  FeatureLayout layout;
  EXPECT_TRUE(load_decider(ws, &layout).options().bootstrap);

  // Judged on the synthesized labels, which it never saw: careful rather than complete.
  ingest_file(ws, tmp.path() / "data" / "pairs.csv", {}, /*strict=*/true);
  EvalOptions eval;
  eval.out_dir = tmp.path() / "reports";
  const auto evaluated = run_eval(ws, eval);
  EXPECT_GT(evaluated.at_threshold.precision, 0.8);
  EXPECT_GT(evaluated.at_threshold.f1, 0.5) << "recall " << evaluated.at_threshold.recall;
  EXPECT_LT(evaluated.random_pairs_accepted, evaluated.random_pairs / 100);
  // With labels, the rules' pairs join them, and people's valid split chooses the threshold.
  const auto labelled_train = labeled_pairs(ws.catalog(), "train");
  const auto labelled_valid = labeled_pairs(ws.catalog(), "valid");
  const auto with_labels = train_decider(ws, decider);
  EXPECT_FALSE(with_labels.valid_held_out);
  EXPECT_EQ(with_labels.valid_pairs, labelled_valid.pairs.size());
  const auto rules_only = without(with_labels.bootstrap->labelled, labeled_pairs(ws.catalog(), ""));
  EXPECT_LT(rules_only.pairs.size(), with_labels.bootstrap->labelled.pairs.size());
  EXPECT_EQ(with_labels.train_pairs, labelled_train.pairs.size() + rules_only.pairs.size());
}

}  // namespace
}  // namespace doppel
