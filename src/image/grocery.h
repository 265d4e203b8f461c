// The grocery-photo retrieval benchmark (../shared/data/grocerystore-packages, protocols in
// ../shared/anchors/grocery-images.md): real shelf photos of 31 packaged products and one studio
// ("iconic") image per product. Any ImageMethod is scored on three protocols:
//
//   A  test leave-one-out: each of the 781 test photos against the other 780. Inflated: every
//      product was shot at its own shelf, so background colour alone scores high.
//   B  seller photo → catalogue image: each test photo against the 31 iconic images.
//   C  cross-session: the 100 val photos (other stores, later) against the 781 test photos.
//
// Two more protocols see no test image, so that models and settings can be chosen on them
// ("train on train, choose on val, report test"):
//
//   Bv  each val photo against the 31 iconic images (B with val queries).
//   Cv  each val photo against the 864 train photos (C with the train split as gallery). A model
//      trained with the train split's labels has pulled exactly that gallery together, so Cv
//      flatters it; compare such models with each other, not with unlabelled ones, on Cv.
//
// Dataset layout (GroceryStoreDataset): {train,val,test}.txt list "<split>/<path>.jpg, <class id>,
// <coarse id>" for all 81 classes; only the Packages photos are present. classes.csv maps class
// ids to the iconic image path. A product is the folder Packages/<Coarse>/<Product>, written
// "<Coarse>/<Product>".
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "image/image_io.h"
#include "image/image_method.h"
#include "image/retrieval_metrics.h"

namespace doppel {

struct GroceryPhoto {
  std::filesystem::path path;
  int product = 0;  // index into GroceryDataset::products
};

struct GroceryDataset {
  // The published split, checked on load.
  static constexpr size_t kProducts = 31, kTrain = 864, kVal = 100, kTest = 781;

  std::filesystem::path root;
  std::vector<std::string> products;          // "Juice/Bravo-Apple-Juice", in classes.csv order
  std::vector<std::filesystem::path> iconic;  // the studio image of each product
  std::vector<GroceryPhoto> train, val, test;
};

// Reads classes.csv and the three split files under `root` and checks every listed file exists.
// Throws doppel::Error naming the file and line for a malformed line, a photo whose folder and
// class id disagree, a missing image, or counts other than those of the published split.
GroceryDataset load_grocery(const std::filesystem::path& root);

struct GroceryScores {
  RetrievalScores a, b, c;
  RetrievalScores b_val, c_val;         // the selection protocols Bv and Cv
  size_t images = 0;                    // images embedded (test + val + iconic + train)
  double embed_images_per_second = 0;   // embedding alone, on whatever threads embed uses
  double decode_images_per_second = 0;  // reading + decoding the files alone
};

struct GroceryEvalOptions {
  size_t batch_size = 32;  // images decoded and embedded at a time
  DecodeOptions decode;
};

// Embeds the test, val, iconic and train images once each and scores protocols A, B, C, Bv and
// Cv (Cv is left empty when data.train is).
GroceryScores evaluate_grocery(const GroceryDataset& data, const ImageMethod& method,
                               const GroceryEvalOptions& options = {});

struct GroceryRow {
  std::string method;
  GroceryScores scores;
};

// Loads the dataset under `root` and evaluates every classical_image_methods() baseline.
std::vector<GroceryRow> run_grocery_baselines(const std::filesystem::path& root);

// The rows as a Markdown table: method | A | B | C | Bv | Cv (each R@1 / R@5 / mAP) | embed
// images/s | decode images/s.
std::string grocery_table_markdown(std::span<const GroceryRow> rows);

}  // namespace doppel
