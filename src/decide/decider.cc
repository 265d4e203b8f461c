#include "decide/decider.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <utility>

#include "decide/calibration.h"
#include "decide/mlp_model.h"
#include "decide/xgboost_model.h"
#include "eval/metrics.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {
namespace {

constexpr const char* kFormat = "doppel-decider";
constexpr int kVersion = 4;  // 1: a single model.ubj, 2: no calibration, 3: XGBoost only

void check_split(std::span<const uint8_t> labels, const char* name) {
  if (labels.empty()) fail("decider: the {} split is empty", name);
  size_t positives = 0;
  for (uint8_t l : labels) {
    if (l > 1) fail("decider: {} label {} is not 0 or 1", name, int(l));
    positives += l;
  }
  if (positives == 0 || positives == labels.size()) {
    fail("decider: the {} split has only {} ({} pairs); it needs matches and non-matches", name,
         positives ? "matches" : "non-matches", labels.size());
  }
}

// Fits the calibration (when asked) on held-out raw scores, calibrates them in place, and returns
// the threshold the options ask for on the calibrated scores.
float calibrate_and_choose_threshold(std::vector<float>& held_out, std::span<const uint8_t> labels,
                                     const DeciderOptions& options,
                                     IsotonicCalibration& calibration) {
  if (options.calibrate) {
    calibration = IsotonicCalibration::fit(held_out, labels);
    calibration.apply(held_out);
  }
  return options.target_precision > 0
             ? threshold_for_precision(held_out, labels, options.target_precision)
             : best_f1_threshold(held_out, labels);
}

// One model of the options' classifier, fitted on data.
FittedModel fit_model(const FitData& data, const DeciderOptions& options) {
  if (options.classifier == Classifier::kMlp)
    return mlp_plugin().fit(data, options.mlp, options.seed);
  return fit_xgboost(data, options.xgboost, options.threads, options.seed);
}

// The rows of x (row-major, num_features each) and their labels where fold_of[row] == fold
// (take == true) or != fold (take == false).
struct Rows {
  std::vector<float> x;
  std::vector<uint8_t> y;
  std::vector<size_t> index;  // row numbers in the input
};

Rows select_rows(const float* x, std::span<const uint8_t> y, int num_features,
                 std::span<const int> fold_of, int fold, bool take) {
  Rows rows;
  for (size_t i = 0; i < y.size(); ++i) {
    if ((fold_of[i] == fold) != take) continue;
    const float* row = x + i * static_cast<size_t>(num_features);
    rows.x.insert(rows.x.end(), row, row + num_features);
    rows.y.push_back(y[i]);
    rows.index.push_back(i);
  }
  return rows;
}

}  // namespace

std::vector<int> stratified_folds(std::span<const uint8_t> labels, int folds, uint64_t seed) {
  if (folds < 1) fail("decider: folds must be >= 1, got {}", folds);
  std::vector<size_t> by_class[2];
  for (size_t i = 0; i < labels.size(); ++i) by_class[labels[i] ? 1 : 0].push_back(i);
  std::mt19937_64 rng(seed);
  std::vector<int> fold_of(labels.size(), 0);
  size_t dealt = 0;
  for (auto& indices : by_class) {
    std::shuffle(indices.begin(), indices.end(), rng);
    for (size_t i : indices) fold_of[i] = static_cast<int>(dealt++ % static_cast<size_t>(folds));
  }
  return fold_of;
}

struct Decider::Impl {
  std::vector<std::unique_ptr<ScoreModel>> models;  // the confidence is the mean of theirs
  int num_features = 0;
  float threshold = 0.5f;
  IsotonicCalibration calibration;  // applied to the models' mean
  int best_iteration = 0;
  DeciderOptions options;
};

Decider::Decider(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Decider::Decider(Decider&&) noexcept = default;
Decider& Decider::operator=(Decider&&) noexcept = default;
Decider::~Decider() = default;

Decider Decider::train(const float* x_train, std::span<const uint8_t> y_train, const float* x_valid,
                       std::span<const uint8_t> y_valid, int num_features,
                       const DeciderOptions& options) {
  options.validate();
  if (num_features <= 0) fail("decider: num_features must be > 0, got {}", num_features);
  check_split(y_train, "train");
  check_split(y_valid, "valid");

  auto fitted = fit_model({x_train, y_train, x_valid, y_valid, num_features}, options);
  auto impl = std::make_unique<Impl>();
  impl->models.push_back(std::move(fitted.model));
  impl->num_features = num_features;
  impl->best_iteration = fitted.best_iteration;
  impl->options = options;
  impl->options.folds = 1;  // what was trained: one model
  Decider decider(std::move(impl));
  auto valid_scores = decider.predict(x_valid, y_valid.size());  // raw: no calibration yet
  decider.impl_->threshold =
      calibrate_and_choose_threshold(valid_scores, y_valid, options, decider.impl_->calibration);
  return decider;
}

Decider Decider::train_cross_fitted(const float* x, std::span<const uint8_t> y, int num_features,
                                    const DeciderOptions& options, std::vector<float>* oof_scores) {
  options.validate();
  if (num_features <= 0) fail("decider: num_features must be > 0, got {}", num_features);
  if (options.folds < 2) {
    fail("decider: cross-fitting needs folds >= 2, got {} (use Decider::train for one model)",
         options.folds);
  }
  check_split(y, "labelled");
  size_t positives = 0;
  for (uint8_t l : y) positives += l;
  const size_t negatives = y.size() - positives;
  const auto folds = static_cast<size_t>(options.folds);
  if (positives < folds || negatives < folds) {
    fail(
        "decider: {} folds need at least {} matches and {} non-matches, but the labelled pairs "
        "have {} matches and {} non-matches; use fewer folds",
        folds, folds, folds, positives, negatives);
  }

  const auto fold_of = stratified_folds(y, options.folds, options.seed);
  auto impl = std::make_unique<Impl>();
  std::vector<float> oof(y.size(), NAN);
  long best_sum = 0;
  for (int k = 0; k < options.folds; ++k) {
    const Rows fit = select_rows(x, y, num_features, fold_of, k, /*take=*/false);
    const Rows held_out = select_rows(x, y, num_features, fold_of, k, /*take=*/true);
    auto fitted =
        fit_model({fit.x.data(), fit.y, held_out.x.data(), held_out.y, num_features}, options);
    const auto scores = fitted.model->predict(held_out.x.data(), held_out.y.size());
    for (size_t i = 0; i < scores.size(); ++i) oof[held_out.index[i]] = scores[i];
    best_sum += fitted.best_iteration;
    impl->models.push_back(std::move(fitted.model));
  }
  impl->num_features = num_features;
  impl->best_iteration =
      static_cast<int>(std::lround(static_cast<double>(best_sum) / options.folds));
  impl->options = options;
  impl->threshold = calibrate_and_choose_threshold(oof, y, options, impl->calibration);
  if (oof_scores) *oof_scores = std::move(oof);
  return Decider(std::move(impl));
}

std::vector<float> Decider::predict(const float* x, size_t n) const {
  if (n == 0) return {};
  std::vector<float> scores = impl_->models[0]->predict(x, n);
  if (impl_->models.size() > 1) {
    std::vector<double> sum(scores.begin(), scores.end());
    for (size_t k = 1; k < impl_->models.size(); ++k) {
      const auto more = impl_->models[k]->predict(x, n);
      for (size_t i = 0; i < n; ++i) sum[i] += more[i];
    }
    const double count = static_cast<double>(impl_->models.size());
    for (size_t i = 0; i < n; ++i) scores[i] = static_cast<float>(sum[i] / count);
  }
  impl_->calibration.apply(scores);
  return scores;
}

void Decider::set_prediction_threads(int threads) {
  for (auto& model : impl_->models) model->set_threads(threads);
}

void Decider::set_tree_predictor(TreePredictor predictor) {
  for (auto& model : impl_->models) model->set_tree_predictor(predictor);
}

float Decider::threshold() const { return impl_->threshold; }

void Decider::set_threshold(float threshold) {
  if (!(threshold >= 0 && threshold <= 1))
    fail("decider: threshold {} is not in [0, 1]", threshold);
  impl_->threshold = threshold;
}

int Decider::num_features() const { return impl_->num_features; }
int Decider::best_iteration() const { return impl_->best_iteration; }
int Decider::num_models() const { return static_cast<int>(impl_->models.size()); }
Classifier Decider::classifier() const { return impl_->options.classifier; }

const DeciderOptions& Decider::options() const { return impl_->options; }

std::string Decider::model_file_name(Classifier classifier, size_t k) {
  return "model_" + std::to_string(k) + (classifier == Classifier::kMlp ? ".safetensors" : ".ubj");
}

void Decider::save(const std::filesystem::path& dir,
                   std::span<const std::string_view> feature_names) const {
  if (feature_names.size() != static_cast<size_t>(impl_->num_features)) {
    fail("decider: saving {} feature names for a model with {} features", feature_names.size(),
         impl_->num_features);
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail("decider: cannot create {}: {}", dir.string(), ec.message());
  const Classifier classifier = impl_->options.classifier;
  auto model_list = nlohmann::json::array();
  for (size_t k = 0; k < impl_->models.size(); ++k) {
    const auto path = dir / model_file_name(classifier, k);
    impl_->models[k]->save(path);
    model_list.push_back(
        {{"file", path.filename().string()}, {"bytes", std::filesystem::file_size(path)}});
  }
  const nlohmann::json meta = {
      {"format", kFormat},
      {"version", kVersion},
      {"threshold", impl_->threshold},
      {"feature_names", std::vector<std::string>(feature_names.begin(), feature_names.end())},
      {"best_iteration", impl_->best_iteration},
      {"models", model_list},
      {"options", options_to_json(impl_->options)},
      {"calibration",
       {{"scores", impl_->calibration.knot_scores()},
        {"probabilities", impl_->calibration.knot_probabilities()}}}};
  write_file_atomic(dir / "decider.json", meta.dump(2) + "\n");
  // Model files this save does not list: version 1's model.ubj, the other classifier's, and
  // those of an earlier save with more folds.
  std::filesystem::remove(dir / "model.ubj", ec);
  for (Classifier kind : {Classifier::kXgboost, Classifier::kMlp}) {
    size_t stale = kind == classifier ? impl_->models.size() : 0;
    while (std::filesystem::remove(dir / model_file_name(kind, stale), ec)) ++stale;
  }
}

Decider Decider::load(const std::filesystem::path& dir,
                      std::span<const std::string_view> expected_feature_names) {
  std::vector<std::string> names;
  Decider decider = load(dir, &names);
  for (size_t i = 0; i < std::max(names.size(), expected_feature_names.size()); ++i) {
    const std::string_view stored = i < names.size() ? std::string_view(names[i]) : "(none)";
    const std::string_view expected =
        i < expected_feature_names.size() ? expected_feature_names[i] : "(none)";
    if (stored != expected) {
      fail(
          "{}: feature {} is '{}' but this build expects '{}' ({} stored, {} expected); retrain "
          "the decider",
          (dir / "decider.json").string(), i, stored, expected, names.size(),
          expected_feature_names.size());
    }
  }
  return decider;
}

Decider Decider::load(const std::filesystem::path& dir, std::vector<std::string>* feature_names) {
  const auto meta_path = dir / "decider.json";
  auto impl = std::make_unique<Impl>();
  std::vector<std::string>& names = *feature_names;
  struct ModelFile {
    std::string file;
    size_t bytes = 0;
  };
  std::vector<ModelFile> model_files;
  try {
    const auto meta = nlohmann::json::parse(read_file(meta_path));
    const auto format = meta.at("format").get<std::string>();
    if (format != kFormat)
      fail("{}: format is '{}', expected '{}'", meta_path.string(), format, kFormat);
    const int version = meta.at("version").get<int>();
    if (version < 1 || version > kVersion) {
      fail("{}: format version {} is not supported (this build reads versions 1 to {})",
           meta_path.string(), version, kVersion);
    }
    impl->threshold = meta.at("threshold").get<float>();
    impl->best_iteration = meta.at("best_iteration").get<int>();
    names = meta.at("feature_names").get<std::vector<std::string>>();
    if (version == 1) {
      model_files.push_back({"model.ubj", meta.at("model_bytes").get<size_t>()});
    } else {
      for (const auto& m : meta.at("models")) {
        model_files.push_back({m.at("file").get<std::string>(), m.at("bytes").get<size_t>()});
      }
    }
    impl->options = options_from_json(meta.at("options"), version);
    if (version >= 3) {
      const auto& c = meta.at("calibration");
      impl->calibration =
          IsotonicCalibration::from_knots(c.at("scores").get<std::vector<float>>(),
                                          c.at("probabilities").get<std::vector<float>>());
    }
  } catch (const nlohmann::json::exception& e) {
    fail("{}: {}", meta_path.string(), e.what());
  } catch (const Error& e) {
    fail("{}: {}", meta_path.string(), e.what());
  }
  if (!(impl->threshold >= 0 && impl->threshold <= 1)) {
    fail("{}: threshold {} is not in [0, 1]", meta_path.string(), impl->threshold);
  }
  if (model_files.empty()) fail("{}: lists no model files", meta_path.string());
  for (const auto& m : model_files) {
    // A bare file name: decider.json must not point outside its folder.
    if (m.file.empty() || std::filesystem::path(m.file).filename() != m.file) {
      fail("{}: model file '{}' is not a file name in the decider folder", meta_path.string(),
           m.file);
    }
  }
  impl->num_features = static_cast<int>(names.size());

  for (const auto& m : model_files) {
    const auto model_path = dir / m.file;
    std::error_code ec;
    const auto size = std::filesystem::file_size(model_path, ec);
    if (ec) fail("{}: cannot read: {}", model_path.string(), ec.message());
    if (size != m.bytes) {
      fail("{}: {} bytes, but decider.json says {}; the file is truncated or from another save",
           model_path.string(), size, m.bytes);
    }
    impl->models.push_back(
        impl->options.classifier == Classifier::kMlp
            ? mlp_plugin().load(model_path, impl->num_features)
            : load_xgboost(model_path, impl->num_features, impl->options.threads));
  }
  return Decider(std::move(impl));
}

}  // namespace doppel
