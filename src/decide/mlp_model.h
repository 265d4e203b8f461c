// A multilayer perceptron behind ScoreModel (libtorch), the decider's alternative to XGBoost.
//
// Input: each pair feature standardised with the training rows' mean and standard deviation, a
// missing value (NaN, e.g. the image features of a listing without a photo) set to 0 — the mean —
// after standardising, and every value clipped to ±8 standard deviations so that one extreme ratio
// cannot dominate a dot product. A constant column gets scale 0. The missing/present distinction
// stays visible through the features that count it (images_present).
// Network: Linear → ReLU → Dropout per hidden layer (MlpOptions::hidden), then Linear → sigmoid.
// Training: binary cross-entropy on shuffled mini-batches with doppel's AdamW schedule
// (nn/optimizer.h), one epoch at a time, early-stopped on valid logloss; the best epoch's weights
// are kept. Deterministic for a given seed and thread count.
//
// On disk: safetensors (model_<k>.safetensors) with "input.mean" and "input.scale" [features] and
// "layers.<i>.weight" [out, in] / "layers.<i>.bias" [out], i = 0 .. hidden layers; the
// architecture is read back from those shapes.
#pragma once

#include "decide/decider_options.h"
#include "decide/score_model.h"

namespace doppel {

// Both live in the neural plugin (util/neural_plugin.h); code outside it calls them through
// mlp_plugin().
FittedModel fit_mlp(const FitData& data, const MlpOptions& options, uint64_t seed);

// Error naming `path` when the file is damaged, lacks a tensor, or its input width is not
// `num_features`.
std::unique_ptr<ScoreModel> load_mlp(const std::filesystem::path& path, int num_features);

// The plugin's fit_mlp and load_mlp; the plugin is loaded on the first call.
struct MlpPlugin {
  decltype(&fit_mlp) fit;
  decltype(&load_mlp) load;
};
const MlpPlugin& mlp_plugin();

}  // namespace doppel
