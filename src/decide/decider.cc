#include "decide/decider.h"

#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "eval/metrics.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {
namespace {

constexpr const char* kFormat = "doppel-decider";
constexpr int kVersion = 1;

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
          {"early_stopping_rounds", o.early_stopping_rounds}};
}

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
  if (parallel_trees < 1) fail("decider options: parallel_trees must be >= 1, got {}", parallel_trees);
  if (threads < 0) fail("decider options: threads must be >= 0, got {}", threads);
  if (early_stopping_rounds < 0) {
    fail("decider options: early_stopping_rounds must be >= 0, got {}", early_stopping_rounds);
  }
}

struct Decider::Impl {
  Booster booster;
  int num_features = 0;
  float threshold = 0.5f;
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

  auto impl = std::make_unique<Impl>();
  XGB(XGBoosterSlice(booster.handle, 0, best + 1, 1, &impl->booster.handle));
  impl->num_features = num_features;
  impl->best_iteration = best;
  impl->options = options;
  Decider decider(std::move(impl));
  const auto valid_scores = decider.predict(x_valid, y_valid.size());
  decider.impl_->threshold = best_f1_threshold(valid_scores, y_valid);
  return decider;
}

std::vector<float> Decider::predict(const float* x, size_t n) const {
  if (n == 0) return {};
  const std::lock_guard lock(impl_->mutex);
  DMatrix matrix(x, n, impl_->num_features, impl_->options.threads);
  bst_ulong length = 0;
  const float* result = nullptr;
  XGB(XGBoosterPredict(impl_->booster.handle, matrix.handle, 0, 0, 0, &length, &result));
  if (length != n) fail("xgboost: predicted {} values for {} rows", length, n);
  return std::vector<float>(result, result + length);
}

float Decider::threshold() const { return impl_->threshold; }

void Decider::set_threshold(float threshold) {
  if (!(threshold >= 0 && threshold <= 1))
    fail("decider: threshold {} is not in [0, 1]", threshold);
  impl_->threshold = threshold;
}

int Decider::num_features() const { return impl_->num_features; }
int Decider::best_iteration() const { return impl_->best_iteration; }

void Decider::save(const std::filesystem::path& dir,
                   std::span<const std::string_view> feature_names) const {
  if (feature_names.size() != static_cast<size_t>(impl_->num_features)) {
    fail("decider: saving {} feature names for a model with {} features", feature_names.size(),
         impl_->num_features);
  }
  bst_ulong length = 0;
  const char* bytes = nullptr;
  {
    const std::lock_guard lock(impl_->mutex);
    XGB(XGBoosterSaveModelToBuffer(impl_->booster.handle, R"({"format": "ubj"})", &length, &bytes));
  }
  const std::string model(bytes, length);
  nlohmann::json meta = {
      {"format", kFormat},
      {"version", kVersion},
      {"threshold", impl_->threshold},
      {"feature_names", std::vector<std::string>(feature_names.begin(), feature_names.end())},
      {"best_iteration", impl_->best_iteration},
      {"model_bytes", model.size()},
      {"options", options_json(impl_->options)}};
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail("decider: cannot create {}: {}", dir.string(), ec.message());
  write_file_atomic(dir / "model.ubj", model);
  write_file_atomic(dir / "decider.json", meta.dump(2) + "\n");
}

Decider Decider::load(const std::filesystem::path& dir,
                      std::span<const std::string_view> expected_feature_names) {
  const auto meta_path = dir / "decider.json";
  const auto model_path = dir / "model.ubj";
  auto impl = std::make_unique<Impl>();
  std::vector<std::string> names;
  size_t model_bytes = 0;
  try {
    const auto meta = nlohmann::json::parse(read_file(meta_path));
    const auto format = meta.at("format").get<std::string>();
    if (format != kFormat)
      fail("{}: format is '{}', expected '{}'", meta_path.string(), format, kFormat);
    const int version = meta.at("version").get<int>();
    if (version != kVersion) {
      fail("{}: format version {} is not supported (this build reads version {})",
           meta_path.string(), version, kVersion);
    }
    impl->threshold = meta.at("threshold").get<float>();
    impl->best_iteration = meta.at("best_iteration").get<int>();
    names = meta.at("feature_names").get<std::vector<std::string>>();
    model_bytes = meta.at("model_bytes").get<size_t>();
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
  } catch (const nlohmann::json::exception& e) {
    fail("{}: {}", meta_path.string(), e.what());
  }
  if (!(impl->threshold >= 0 && impl->threshold <= 1)) {
    fail("{}: threshold {} is not in [0, 1]", meta_path.string(), impl->threshold);
  }
  for (size_t i = 0; i < std::max(names.size(), expected_feature_names.size()); ++i) {
    const std::string_view stored = i < names.size() ? std::string_view(names[i]) : "(none)";
    const std::string_view expected =
        i < expected_feature_names.size() ? expected_feature_names[i] : "(none)";
    if (stored != expected) {
      fail(
          "{}: feature {} is '{}' but this build expects '{}' ({} stored, {} expected); retrain "
          "the decider",
          meta_path.string(), i, stored, expected, names.size(), expected_feature_names.size());
    }
  }
  impl->num_features = static_cast<int>(names.size());

  const std::string model = read_file(model_path);
  if (model.size() != model_bytes) {
    fail("{}: {} bytes, but decider.json says {}; the file is truncated or from another save",
         model_path.string(), model.size(), model_bytes);
  }
  XGB(XGBoosterCreate(nullptr, 0, &impl->booster.handle));
  try {
    XGB(XGBoosterLoadModelFromBuffer(impl->booster.handle, model.data(), model.size()));
  } catch (const Error& e) {
    fail("{}: cannot load: {}", model_path.string(), e.what());
  }
  if (impl->options.threads > 0)
    impl->booster.set("nthread", std::to_string(impl->options.threads));
  bst_ulong booster_features = 0;
  XGB(XGBoosterGetNumFeature(impl->booster.handle, &booster_features));
  if (booster_features != names.size()) {
    fail("{}: the model has {} features but decider.json lists {}", model_path.string(),
         booster_features, names.size());
  }
  return Decider(std::move(impl));
}

}  // namespace doppel
