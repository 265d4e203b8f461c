// Workspace — the directory every doppel command works on, so a user never juggles paths:
//
//   ws/catalog.db        listings, labelled pairs, vectors (SQLite, see docs/catalog_format.md)
//   ws/models/tfidf/     the classical text encoder (TF-IDF + PCA), also used by pair features
//   ws/models/text/      the neural text encoder (BERT + CNN head, text/neural_text_encoder.h)
//   ws/models/image/     the neural image encoder (ViT-MAE + head, image/neural_image_encoder.h)
//   ws/cache/images/     downloads of listings' image URLs (image/image_source.h)
//   ws/models/decider/   the decider (XGBoost) with its threshold and feature list
//   ws/index/            vector indexes, one file per vector space (text.index, ...)
//   ws/reports/          eval output: metrics.json, report.md, SVG plots
#pragma once

#include <filesystem>

#include "catalog/catalog_store.h"

namespace doppel {

class Workspace {
 public:
  // Creates the folder layout and an empty catalog; Error if `root` already holds a workspace.
  static Workspace init(const std::filesystem::path& root);
  // Opens an existing workspace; Error telling the user to run `doppel init` when it is not one.
  static Workspace open(const std::filesystem::path& root);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path catalog_path() const { return root_ / "catalog.db"; }
  std::filesystem::path tfidf_dir() const { return root_ / "models" / "tfidf"; }
  std::filesystem::path text_model_dir() const { return root_ / "models" / "text"; }
  std::filesystem::path image_model_dir() const { return root_ / "models" / "image"; }
  std::filesystem::path image_cache_dir() const { return root_ / "cache" / "images"; }
  std::filesystem::path decider_dir() const { return root_ / "models" / "decider"; }
  std::filesystem::path index_path(std::string_view space) const;
  std::filesystem::path reports_dir() const { return root_ / "reports"; }

  CatalogStore& catalog() { return catalog_; }
  const CatalogStore& catalog() const { return catalog_; }

 private:
  Workspace(std::filesystem::path root, CatalogStore catalog);
  std::filesystem::path root_;
  CatalogStore catalog_;
};

}  // namespace doppel
