#include "decide/xgboost_model.h"

#include <fmt/format.h>
#include <xgboost/c_api.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include "decide/tree_ensemble.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {
namespace {

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

// "[12]\tvalid-logloss:0.123456" -> 0.123456
double parse_eval(const char* text) {
  const std::string s(text);
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos) fail("xgboost: unexpected evaluation output '{}'", s);
  return std::stod(s.substr(colon + 1));
}

class XgboostModel final : public ScoreModel {
 public:
  // `threads` as set_threads() takes them.
  XgboostModel(Booster booster, int num_features, int threads)
      : booster_(std::move(booster)),
        num_features_(num_features),
        compiled_(TreeEnsemble::from_xgboost_json(to_json(booster_), num_features)) {
    set_threads(threads);
  }

  std::vector<float> predict(const float* x, size_t n) const override {
    if (predictor_ == TreePredictor::kXgboost) return predict_in_xgboost(x, n);
    std::vector<float> scores(n);
    compiled_.predict(x, n, scores.data(), threads_);
    return scores;
  }

  void set_threads(int threads) override {
    threads_ = threads;
    booster_.set("nthread", std::to_string(threads));
  }

  void set_tree_predictor(TreePredictor predictor) override { predictor_ = predictor; }

  void save(const std::filesystem::path& path) const override {
    bst_ulong length = 0;
    const char* bytes = nullptr;
    XGB(XGBoosterSaveModelToBuffer(booster_.handle, R"({"format": "ubj"})", &length, &bytes));
    write_file_atomic(path, std::string_view(bytes, length));
  }

 private:
  static std::string to_json(const Booster& booster) {
    bst_ulong length = 0;
    const char* bytes = nullptr;
    XGB(XGBoosterSaveModelToBuffer(booster.handle, R"({"format": "json"})", &length, &bytes));
    return std::string(bytes, length);
  }

  // In-place prediction on the caller's dense rows: no DMatrix is built, which at a few hundred
  // columns costs about as much as walking the trees.
  std::vector<float> predict_in_xgboost(const float* x, size_t n) const {
    if (n == 0) return {};
    const std::string values =
        fmt::format(R"({{"data": [{}, true], "shape": [{}, {}], "typestr": "<f4", "version": 3}})",
                    reinterpret_cast<std::uintptr_t>(x), n, num_features_);
    static constexpr const char* kConfig =
        R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0,)"
        R"( "strict_shape": false, "missing": NaN, "cache_id": 0})";
    const bst_ulong* shape = nullptr;
    bst_ulong dims = 0;
    const float* result = nullptr;
    // Thread-safe for tree models since XGBoost 1.4: the result lies in the calling thread's
    // buffer, so concurrent requests predict in parallel (tested in decider_test).
    XGB(XGBoosterPredictFromDense(booster_.handle, values.c_str(), kConfig, nullptr, &shape, &dims,
                                  &result));
    if (dims != 1 || shape[0] != n) fail("xgboost: predicted {} values for {} rows", shape[0], n);
    return std::vector<float>(result, result + n);
  }

  Booster booster_;
  int num_features_;
  TreeEnsemble compiled_;
  int threads_ = 0;
  TreePredictor predictor_ = TreePredictor::kCompiled;
};

}  // namespace

FittedModel fit_xgboost(const FitData& data, const XgboostOptions& options, int threads,
                        uint64_t seed) {
  DMatrix train(data.x_train, data.y_train.size(), data.num_features, threads);
  train.set_labels(data.y_train);
  DMatrix valid(data.x_valid, data.y_valid.size(), data.num_features, threads);
  valid.set_labels(data.y_valid);

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
  booster.set("seed", std::to_string(seed & 0x7fffffff));
  if (threads > 0) booster.set("nthread", std::to_string(threads));

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

  Booster sliced;
  XGB(XGBoosterSlice(booster.handle, 0, best + 1, 1, &sliced.handle));
  return {std::make_unique<XgboostModel>(std::move(sliced), data.num_features, threads), best};
}

std::unique_ptr<ScoreModel> load_xgboost(const std::filesystem::path& path, int num_features,
                                         int threads) {
  const std::string model = read_file(path);
  Booster booster;
  XGB(XGBoosterCreate(nullptr, 0, &booster.handle));
  try {
    XGB(XGBoosterLoadModelFromBuffer(booster.handle, model.data(), model.size()));
  } catch (const Error& e) {
    fail("{}: cannot load: {}", path.string(), e.what());
  }
  bst_ulong booster_features = 0;
  XGB(XGBoosterGetNumFeature(booster.handle, &booster_features));
  if (booster_features != static_cast<bst_ulong>(num_features)) {
    fail("{}: the model has {} features but decider.json lists {}", path.string(), booster_features,
         num_features);
  }
  try {
    return std::make_unique<XgboostModel>(std::move(booster), num_features, threads);
  } catch (const Error& e) {
    fail("{}: {}", path.string(), e.what());
  }
}

}  // namespace doppel
