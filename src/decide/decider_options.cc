#include "decide/decider_options.h"

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace doppel {

std::string_view classifier_name(Classifier classifier) {
  return classifier == Classifier::kMlp ? "mlp" : "xgboost";
}

Classifier parse_classifier(std::string_view name) {
  if (name == "xgboost") return Classifier::kXgboost;
  if (name == "mlp") return Classifier::kMlp;
  fail("decider: unknown classifier '{}' (use xgboost or mlp)", name);
}

void XgboostOptions::validate() const {
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
  if (early_stopping_rounds < 0) {
    fail("decider options: early_stopping_rounds must be >= 0, got {}", early_stopping_rounds);
  }
}

void MlpOptions::validate() const {
  if (hidden.empty()) fail("decider options: the MLP needs at least one hidden layer");
  for (int width : hidden) {
    if (width <= 0) fail("decider options: MLP hidden widths must be > 0, got {}", width);
  }
  if (epochs <= 0) fail("decider options: MLP epochs must be > 0, got {}", epochs);
  if (batch <= 0) fail("decider options: MLP batch must be > 0, got {}", batch);
  optimizer.validate();
  if (!(dropout >= 0 && dropout < 1)) {
    fail("decider options: MLP dropout must be in [0, 1), got {}", dropout);
  }
  if (patience < 0) fail("decider options: MLP patience must be >= 0, got {}", patience);
}

void DeciderOptions::validate() const {
  if (classifier == Classifier::kMlp) {
    mlp.validate();
  } else {
    xgboost.validate();
  }
  if (threads < 0) fail("decider options: threads must be >= 0, got {}", threads);
  if (folds < 1 || folds > 20) {
    fail("decider options: folds must be in [2, 20] (or 1 for a single train/valid model), got {}",
         folds);
  }
  if (!(random_negatives >= 0 && random_negatives <= 100)) {
    fail("decider options: random negatives per train pair must be in [0, 100], got {}",
         random_negatives);
  }
  if (!(target_precision >= 0 && target_precision < 1))
    fail("decider options: target precision must be in (0, 1) (or 0 for the best F1), got {}",
         target_precision);
}

namespace {

nlohmann::json xgboost_json(const XgboostOptions& o) {
  return {{"rounds", o.rounds},
          {"max_depth", o.max_depth},
          {"eta", o.eta},
          {"subsample", o.subsample},
          {"colsample", o.colsample},
          {"parallel_trees", o.parallel_trees},
          {"early_stopping_rounds", o.early_stopping_rounds}};
}

XgboostOptions xgboost_from_json(const nlohmann::json& j) {
  XgboostOptions o;
  o.rounds = j.at("rounds").get<int>();
  o.max_depth = j.at("max_depth").get<int>();
  o.eta = j.at("eta").get<float>();
  o.subsample = j.at("subsample").get<float>();
  o.colsample = j.at("colsample").get<float>();
  o.parallel_trees = j.at("parallel_trees").get<int>();
  o.early_stopping_rounds = j.at("early_stopping_rounds").get<int>();
  return o;
}

nlohmann::json mlp_json(const MlpOptions& o) {
  return {{"hidden", o.hidden},
          {"epochs", o.epochs},
          {"batch", o.batch},
          {"learning_rate", o.optimizer.lr},
          {"weight_decay", o.optimizer.weight_decay},
          {"warmup_fraction", o.optimizer.warmup_fraction},
          {"clip_norm", o.optimizer.clip_norm},
          {"dropout", o.dropout},
          {"patience", o.patience}};
}

MlpOptions mlp_from_json(const nlohmann::json& j) {
  MlpOptions o;
  o.hidden = j.at("hidden").get<std::vector<int>>();
  o.epochs = j.at("epochs").get<int>();
  o.batch = j.at("batch").get<int>();
  o.optimizer.lr = j.at("learning_rate").get<double>();
  o.optimizer.weight_decay = j.at("weight_decay").get<double>();
  o.optimizer.warmup_fraction = j.at("warmup_fraction").get<double>();
  o.optimizer.clip_norm = j.at("clip_norm").get<double>();
  o.dropout = j.at("dropout").get<float>();
  o.patience = j.at("patience").get<int>();
  return o;
}

}  // namespace

nlohmann::json options_to_json(const DeciderOptions& o) {
  nlohmann::json j = {{"classifier", classifier_name(o.classifier)},
                      {"threads", o.threads},
                      {"seed", o.seed},
                      {"folds", o.folds},
                      {"random_negatives", o.random_negatives},
                      {"bootstrap", o.bootstrap},
                      {"calibrate", o.calibrate},
                      {"target_precision", o.target_precision}};
  if (o.classifier == Classifier::kMlp) {
    j["mlp"] = mlp_json(o.mlp);
  } else {
    j["xgboost"] = xgboost_json(o.xgboost);
  }
  return j;
}

DeciderOptions options_from_json(const nlohmann::json& j, int version) {
  DeciderOptions o;
  o.threads = j.at("threads").get<int>();
  o.seed = j.at("seed").get<uint64_t>();
  o.folds = version == 1 ? 1 : j.at("folds").get<int>();
  o.random_negatives = j.value("random_negatives", 0.0);  // absent: trained before they existed
  o.bootstrap = j.value("bootstrap", false);              // likewise
  o.calibrate = version >= 3 && j.at("calibrate").get<bool>();  // before 3: not calibrated
  if (version >= 3) o.target_precision = j.at("target_precision").get<double>();
  if (version < 4) {  // XGBoost was the only classifier; its options were flat
    o.xgboost = xgboost_from_json(j);
    return o;
  }
  o.classifier = parse_classifier(j.at("classifier").get<std::string>());
  if (o.classifier == Classifier::kMlp) {
    o.mlp = mlp_from_json(j.at("mlp"));
  } else {
    o.xgboost = xgboost_from_json(j.at("xgboost"));
  }
  return o;
}

}  // namespace doppel
