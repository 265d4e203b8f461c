// XGBoost behind ScoreModel: binary:logistic gradient-boosted trees (hist method) trained through
// the C API of libxgboost, early-stopped on valid logloss and sliced to the best round. Saved in
// XGBoost's own UBJSON format (model_<k>.ubj).
// Predicts with a compiled copy of the trees (tree_ensemble.h), made when the model is fitted or
// loaded; XGBoost's own predictor gives the same scores and stays behind set_tree_predictor().
#pragma once

#include "decide/decider_options.h"
#include "decide/score_model.h"

namespace doppel {

// `threads`: XGBoost's nthread, 0 = all cores. Error (doppel::Error) on an XGBoost failure.
FittedModel fit_xgboost(const FitData& data, const XgboostOptions& options, int threads,
                        uint64_t seed);

// Loads a model saved by ScoreModel::save. Error naming `path` when it cannot be parsed or its
// feature count is not `num_features`.
std::unique_ptr<ScoreModel> load_xgboost(const std::filesystem::path& path, int num_features,
                                         int threads);

}  // namespace doppel
