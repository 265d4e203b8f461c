#include "decide/decider.h"

#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <utility>

#include "decide/calibration.h"
#include "eval/metrics.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {
namespace {

constexpr const char* kFormat = "doppel-decider";
constexpr int kVersion = 3;  // 1: a single model.ubj, 2: no calibration; load() reads both

// Every XGBoost C API call goes through here: a non-zero status becomes doppel::Error.
void xgb_check(int status, const char* what) {
  if (status != 0) fail("xgboost: {} failed: {}", what, XGBGetLastError());
}
#define XGB(call) xgb_check((call), #call)

// RAII owners of the two XGBoost handle types.
struct DMatrix {
  DMatrixHandle handle = nullptr;
  DMatrix(const float* x, size_t rows, int cols, int threads) {
    XGB(XGDMatrixCreateFromMat_omp(x, rows, static_cast<bst_ulong>(cols), NAN, &handle, threads));
  }
  ~DMatrix() {
    if (handle) XGDMatrixFree(handle);
  }
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  void set_labels(std::span<const uint8_t> labels) {
    std::vector<float> y(labels.begin(), labels.end());
    XGB(XGDMatrixSetFloatInfo(handle, "label", y.data(), y.size()));
  }
};

struct Booster {
  BoosterHandle handle = nullptr;
  Booster() = default;
  explicit Booster(BoosterHandle h) : handle(h) {}
  ~Booster() {
    if (handle) XGBoosterFree(handle);
  }
  Booster(Booster&& other) noexcept : handle(std::exchange(other.handle, nullptr)) {}
  Booster& operator=(Booster&& other) noexcept {
    std::swap(handle, other.handle);
    return *this;
  }
  void set(const char* name, const std::string& value) {
    XGB(XGBoosterSetParam(handle, name, value.c_str()));
  }
};

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

// "[12]\tvalid-logloss:0.123456" -> 0.123456
double parse_eval(const char* text) {
  const std::string s(text);
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos) fail("xgboost: unexpected evaluation output '{}'", s);
  return std::stod(s.substr(colon + 1));
}

nlohmann::json options_json(const DeciderOptions& o) {
  return {{"rounds", o.rounds},
          {"max_depth", o.max_depth},
          {"eta", o.eta},
          {"subsample", o.subsample},
          {"colsample", o.colsample},
          {"parallel_trees", o.parallel_trees},
          {"threads", o.threads},
          {"seed", o.seed},
          {"early_stopping_rounds", o.early_stopping_rounds},
          {"folds", o.folds},
          {"calibrate", o.calibrate},
          {"target_precision", o.target_precision}};
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

// One booster fitted on (x_train, y_train), early-stopped on (x_valid, y_valid) by valid logloss,
// and sliced to its best round. Both Decider::train and every fold of train_cross_fitted use it.
struct FittedBooster {
  Booster booster;
  int best_iteration = 0;
};

FittedBooster fit_booster(const float* x_train, std::span<const uint8_t> y_train,
                          const float* x_valid, std::span<const uint8_t> y_valid, int num_features,
                          const DeciderOptions& options) {
  DMatrix train(x_train, y_train.size(), num_features, options.threads);
  train.set_labels(y_train);
  DMatrix valid(x_valid, y_valid.size(), num_features, options.threads);
  valid.set_labels(y_valid);

  Booster booster;
  DMatrixHandle cache[] = {train.handle, valid.handle};
  XGB(XGBoosterCreate(cache, 2, &booster.handle));
  booster.set("verbosity", "1");
  booster.set("objective", "binary:logistic");
  booster.set("eval_metric", "logloss");
  booster.set("tree_method", "hist");
  booster.set("max_depth", std::to_string(options.max_depth));
  booster.set("eta", std::to_string(options.eta));
  booster.set("subsample", std::to_string(options.subsample));
  booster.set("colsample_bynode", std::to_string(options.colsample));
  booster.set("num_parallel_tree", std::to_string(options.parallel_trees));
  booster.set("seed", std::to_string(options.seed & 0x7fffffff));
  if (options.threads > 0) booster.set("nthread", std::to_string(options.threads));

  DMatrixHandle eval_sets[] = {valid.handle};
  const char* eval_names[] = {"valid"};
  double best_loss = INFINITY;
  int best = 0;
  for (int iter = 0; iter < options.rounds; ++iter) {
    XGB(XGBoosterUpdateOneIter(booster.handle, iter, train.handle));
    const char* result = nullptr;
    XGB(XGBoosterEvalOneIter(booster.handle, iter, eval_sets, eval_names, 1, &result));
    const double loss = parse_eval(result);
    if (loss < best_loss) {
      best_loss = loss;
      best = iter;
    } else if (options.early_stopping_rounds > 0 && iter - best >= options.early_stopping_rounds) {
      break;
    }
  }

  FittedBooster fitted;
  XGB(XGBoosterSlice(booster.handle, 0, best + 1, 1, &fitted.booster.handle));
  fitted.best_iteration = best;
  return fitted;
}

// One booster's confidences for n rows. The caller serialises calls on the same booster.
std::vector<float> predict_booster(const Booster& booster, const float* x, size_t n,
                                   int num_features, int threads) {
  DMatrix matrix(x, n, num_features, threads);
  bst_ulong length = 0;
  const float* result = nullptr;
  XGB(XGBoosterPredict(booster.handle, matrix.handle, 0, 0, 0, &length, &result));
  if (length != n) fail("xgboost: predicted {} values for {} rows", length, n);
  return std::vector<float>(result, result + length);
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

std::string model_file_name(size_t k) { return "model_" + std::to_string(k) + ".ubj"; }

}  // namespace

void DeciderOptions::validate() const {
  if (rounds <= 0) fail("decider options: rounds must be > 0, got {}", rounds);
  if (max_depth <= 0) fail("decider options: max_depth must be > 0, got {}", max_depth);
  if (!(eta > 0 && eta <= 1)) fail("decider options: eta must be in (0, 1], got {}", eta);
  if (!(subsample > 0 && subsample <= 1)) {
    fail("decider options: subsample must be in (0, 1], got {}", subsample);
  }
  if (!(colsample > 0 && colsample <= 1)) {
    fail("decider options: colsample must be in (0, 1], got {}", colsample);
  }
  if (parallel_trees < 1)
    fail("decider options: parallel_trees must be >= 1, got {}", parallel_trees);
  if (threads < 0) fail("decider options: threads must be >= 0, got {}", threads);
  if (early_stopping_rounds < 0) {
    fail("decider options: early_stopping_rounds must be >= 0, got {}", early_stopping_rounds);
  }
  if (folds < 1 || folds > 20) {
    fail("decider options: folds must be in [2, 20] (or 1 for a single train/valid model), got {}",
         folds);
  }
  if (!(target_precision >= 0 && target_precision < 1))
    fail("decider options: target precision must be in (0, 1) (or 0 for the best F1), got {}",
         target_precision);
}

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
  std::vector<Booster> boosters;  // the confidence is the mean of their predictions
  int num_features = 0;
  float threshold = 0.5f;
  IsotonicCalibration calibration;  // applied to the boosters' mean
  int best_iteration = 0;
  DeciderOptions options;
  mutable std::mutex mutex;  // serialises predict(): XGBoost's prediction buffer is per booster
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

  auto fitted = fit_booster(x_train, y_train, x_valid, y_valid, num_features, options);
  auto impl = std::make_unique<Impl>();
  impl->boosters.push_back(std::move(fitted.booster));
  impl->num_features = num_features;
  impl->best_iteration = fitted.best_iteration;
  impl->options = options;
  impl->options.folds = 1;  // what was trained: one model
  Decider decider(std::move(impl));
  auto valid_scores = decider.predict(x_valid, y_valid.size());  // raw: no calibration yet
  decider.impl_->threshold = calibrate_and_choose_threshold(valid_scores, y_valid, options,
                                                            decider.impl_->calibration);
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
        fit_booster(fit.x.data(), fit.y, held_out.x.data(), held_out.y, num_features, options);
    const auto scores = predict_booster(fitted.booster, held_out.x.data(), held_out.y.size(),
                                        num_features, options.threads);
    for (size_t i = 0; i < scores.size(); ++i) oof[held_out.index[i]] = scores[i];
    best_sum += fitted.best_iteration;
    impl->boosters.push_back(std::move(fitted.booster));
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
  const std::lock_guard lock(impl_->mutex);
  if (impl_->boosters.size() == 1) {
    auto scores =
        predict_booster(impl_->boosters[0], x, n, impl_->num_features, impl_->options.threads);
    impl_->calibration.apply(scores);
    return scores;
  }
  std::vector<double> sum(n, 0.0);
  for (const auto& booster : impl_->boosters) {
    const auto scores = predict_booster(booster, x, n, impl_->num_features, impl_->options.threads);
    for (size_t i = 0; i < n; ++i) sum[i] += scores[i];
  }
  std::vector<float> mean(n);
  const double k = static_cast<double>(impl_->boosters.size());
  for (size_t i = 0; i < n; ++i) mean[i] = static_cast<float>(sum[i] / k);
  impl_->calibration.apply(mean);
  return mean;
}

float Decider::threshold() const { return impl_->threshold; }

void Decider::set_threshold(float threshold) {
  if (!(threshold >= 0 && threshold <= 1))
    fail("decider: threshold {} is not in [0, 1]", threshold);
  impl_->threshold = threshold;
}

int Decider::num_features() const { return impl_->num_features; }
int Decider::best_iteration() const { return impl_->best_iteration; }
int Decider::num_models() const { return static_cast<int>(impl_->boosters.size()); }

void Decider::save(const std::filesystem::path& dir,
                   std::span<const std::string_view> feature_names) const {
  if (feature_names.size() != static_cast<size_t>(impl_->num_features)) {
    fail("decider: saving {} feature names for a model with {} features", feature_names.size(),
         impl_->num_features);
  }
  std::vector<std::string> models;
  {
    const std::lock_guard lock(impl_->mutex);
    for (const auto& booster : impl_->boosters) {
      bst_ulong length = 0;
      const char* bytes = nullptr;
      XGB(XGBoosterSaveModelToBuffer(booster.handle, R"({"format": "ubj"})", &length, &bytes));
      models.emplace_back(bytes, length);
    }
  }
  auto model_list = nlohmann::json::array();
  for (size_t k = 0; k < models.size(); ++k) {
    model_list.push_back({{"file", model_file_name(k)}, {"bytes", models[k].size()}});
  }
  nlohmann::json meta = {
      {"format", kFormat},
      {"version", kVersion},
      {"threshold", impl_->threshold},
      {"feature_names", std::vector<std::string>(feature_names.begin(), feature_names.end())},
      {"best_iteration", impl_->best_iteration},
      {"models", model_list},
      {"options", options_json(impl_->options)},
      {"calibration",
       {{"scores", impl_->calibration.knot_scores()},
        {"probabilities", impl_->calibration.knot_probabilities()}}}};
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail("decider: cannot create {}: {}", dir.string(), ec.message());
  for (size_t k = 0; k < models.size(); ++k) write_file_atomic(dir / model_file_name(k), models[k]);
  write_file_atomic(dir / "decider.json", meta.dump(2) + "\n");
  // Model files of an earlier save with more models, or of version 1, are no longer referenced.
  std::filesystem::remove(dir / "model.ubj", ec);
  size_t stale = models.size();
  while (std::filesystem::remove(dir / model_file_name(stale), ec)) ++stale;
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
    const auto& o = meta.at("options");
    impl->options.rounds = o.at("rounds").get<int>();
    impl->options.max_depth = o.at("max_depth").get<int>();
    impl->options.eta = o.at("eta").get<float>();
    impl->options.subsample = o.at("subsample").get<float>();
    impl->options.colsample = o.at("colsample").get<float>();
    impl->options.parallel_trees = o.at("parallel_trees").get<int>();
    impl->options.threads = o.at("threads").get<int>();
    impl->options.seed = o.at("seed").get<uint64_t>();
    impl->options.early_stopping_rounds = o.at("early_stopping_rounds").get<int>();
    impl->options.folds = version == 1 ? 1 : o.at("folds").get<int>();
    if (version >= 3) {
      impl->options.calibrate = o.at("calibrate").get<bool>();
      impl->options.target_precision = o.at("target_precision").get<double>();
      const auto& c = meta.at("calibration");
      impl->calibration =
          IsotonicCalibration::from_knots(c.at("scores").get<std::vector<float>>(),
                                          c.at("probabilities").get<std::vector<float>>());
    } else {
      impl->options.calibrate = false;  // what was trained
    }
  } catch (const nlohmann::json::exception& e) {
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
    const std::string model = read_file(model_path);
    if (model.size() != m.bytes) {
      fail("{}: {} bytes, but decider.json says {}; the file is truncated or from another save",
           model_path.string(), model.size(), m.bytes);
    }
    Booster& booster = impl->boosters.emplace_back();
    XGB(XGBoosterCreate(nullptr, 0, &booster.handle));
    try {
      XGB(XGBoosterLoadModelFromBuffer(booster.handle, model.data(), model.size()));
    } catch (const Error& e) {
      fail("{}: cannot load: {}", model_path.string(), e.what());
    }
    if (impl->options.threads > 0) booster.set("nthread", std::to_string(impl->options.threads));
    bst_ulong booster_features = 0;
    XGB(XGBoosterGetNumFeature(booster.handle, &booster_features));
    if (booster_features != names.size()) {
      fail("{}: the model has {} features but decider.json lists {}", model_path.string(),
           booster_features, names.size());
    }
  }
  return Decider(std::move(impl));
}

}  // namespace doppel
