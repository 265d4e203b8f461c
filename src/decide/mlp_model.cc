#include "decide/mlp_model.h"

#include <fmt/ranges.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>

#include "nn/optimizer.h"
#include "nn/state_dict.h"
#include "util/error.h"

namespace doppel {
namespace {

constexpr float kClip = 8.0f;           // standard deviations
constexpr int64_t kPredictRows = 2048;  // rows per forward pass when scoring

// The standardisation of the inputs: x' = clip((x - mean) * scale), NaN -> 0.
struct InputScaler {
  torch::Tensor mean, scale;  // [features]

  static InputScaler fit(const torch::Tensor& x) {
    const auto present = ~torch::isnan(x);
    const auto count = present.sum(0).to(torch::kFloat32);
    const auto values = torch::where(present, x, torch::zeros_like(x));
    const auto mean = values.sum(0) / count.clamp_min(1);
    const auto centred = torch::where(present, x - mean, torch::zeros_like(x));
    const auto std = (centred.square().sum(0) / count.clamp_min(1)).sqrt();
    const auto scale = torch::where(std > 1e-6, 1.0 / std, torch::zeros_like(std));
    return {mean, scale};
  }

  int64_t features() const { return mean.size(0); }

  // Standardises `rows` rows of x into out (same shape). One plain pass: at inference it costs
  // as much as the first layer when written as tensor operations with their temporaries.
  void apply(const float* x, int64_t rows, float* out) const {
    const int64_t width = features();
    const float* m = mean.data_ptr<float>();
    const float* s = scale.data_ptr<float>();
    at::parallel_for(0, rows, 64, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const float* in = x + r * width;
        float* o = out + r * width;
        for (int64_t c = 0; c < width; ++c) {
          const float v = (in[c] - m[c]) * s[c];
          o[c] = std::isnan(v) ? 0.0f : std::clamp(v, -kClip, kClip);
        }
      }
    });
  }

  torch::Tensor apply(const float* x, int64_t rows) const {
    auto out = torch::empty({rows, features()}, torch::kFloat32);
    apply(x, rows, out.data_ptr<float>());
    return out;
  }
};

struct MlpNetImpl : torch::nn::Module {
  MlpNetImpl(int64_t inputs, const std::vector<int64_t>& hidden, double dropout)
      : dropout(dropout) {
    layers = register_module("layers", torch::nn::ModuleList());
    int64_t width = inputs;
    for (int64_t h : hidden) {
      layers->push_back(torch::nn::Linear(width, h));
      width = h;
    }
    layers->push_back(torch::nn::Linear(width, 1));
  }

  // Match logits [rows] of standardised inputs [rows, features].
  torch::Tensor forward(torch::Tensor x) {
    const size_t last = layers->size() - 1;
    for (size_t i = 0; i < last; ++i) {
      x = torch::relu(layers[i]->as<torch::nn::Linear>()->forward(x));
      if (dropout > 0) x = torch::dropout(x, dropout, is_training());
    }
    return layers[last]->as<torch::nn::Linear>()->forward(x).squeeze(1);
  }

  torch::nn::ModuleList layers{nullptr};
  double dropout;
};
TORCH_MODULE(MlpNet);

class MlpModel final : public ScoreModel {
 public:
  MlpModel(MlpNet net, InputScaler scaler) : net_(std::move(net)), scaler_(std::move(scaler)) {
    net_->eval();
  }

  std::vector<float> predict(const float* x, size_t n) const override {
    std::vector<float> scores(n);
    const torch::InferenceMode inference;
    const int64_t features = scaler_.features();
    std::vector<float> input(static_cast<size_t>(std::min<int64_t>(kPredictRows, n) * features));
    for (size_t begin = 0; begin < n; begin += kPredictRows) {
      const int64_t rows = std::min<int64_t>(kPredictRows, static_cast<int64_t>(n - begin));
      scaler_.apply(x + begin * features, rows, input.data());
      const auto logits =
          net_->forward(torch::from_blob(input.data(), {rows, features}, torch::kFloat32));
      const auto probabilities = torch::sigmoid(logits).contiguous();
      std::copy_n(probabilities.data_ptr<float>(), rows, scores.begin() + begin);
    }
    return scores;
  }

  void save(const std::filesystem::path& path) const override {
    nn::StateDict state = {{"input.mean", scaler_.mean}, {"input.scale", scaler_.scale}};
    for (auto& item : nn::module_state(*net_)) state.push_back(std::move(item));
    nn::save_state_dict(path, state);
  }

 private:
  mutable MlpNet net_;  // libtorch's forward() is not const; scoring changes nothing
  InputScaler scaler_;
};

std::vector<int64_t> shape_of(const torch::Tensor& t) { return t.sizes().vec(); }

torch::Tensor labels_tensor(std::span<const uint8_t> y) {
  return torch::tensor(std::vector<float>(y.begin(), y.end()), torch::kFloat32);
}

}  // namespace

FittedModel fit_mlp(const FitData& data, const MlpOptions& options, uint64_t seed) {
  options.validate();
  torch::manual_seed(seed);
  const auto n_train = static_cast<int64_t>(data.y_train.size());
  const InputScaler scaler = InputScaler::fit(torch::from_blob(
      const_cast<float*>(data.x_train), {n_train, data.num_features}, torch::kFloat32));
  const auto x_train = scaler.apply(data.x_train, n_train);
  const auto y_train = labels_tensor(data.y_train);
  const auto x_valid = scaler.apply(data.x_valid, static_cast<int64_t>(data.y_valid.size()));
  const auto y_valid = labels_tensor(data.y_valid);

  MlpNet net(data.num_features, std::vector<int64_t>(options.hidden.begin(), options.hidden.end()),
             options.dropout);
  const int64_t rows = x_train.size(0);
  const int64_t batches = (rows + options.batch - 1) / options.batch;
  nn::Optimizer optimizer({{net.get()}}, options.optimizer, batches * options.epochs);

  std::mt19937_64 rng(seed);
  std::vector<int64_t> order(static_cast<size_t>(rows));
  std::iota(order.begin(), order.end(), 0);
  double best_loss = INFINITY;
  int best_epoch = 0;
  nn::StateDict best_weights;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    const auto permutation = torch::tensor(order, torch::kInt64);
    net->train();
    for (int64_t b = 0; b < batches; ++b) {
      const auto index = permutation.slice(0, b * options.batch, (b + 1) * options.batch);
      const auto loss = torch::binary_cross_entropy_with_logits(
          net->forward(x_train.index_select(0, index)), y_train.index_select(0, index));
      loss.backward();
      optimizer.step();
    }
    net->eval();
    const torch::NoGradGuard no_grad;
    const double loss =
        torch::binary_cross_entropy_with_logits(net->forward(x_valid), y_valid).item<double>();
    if (loss < best_loss) {
      best_loss = loss;
      best_epoch = epoch;
      best_weights.clear();
      for (const auto& [name, tensor] : nn::module_state(*net)) {
        best_weights.emplace_back(name, tensor.clone());
      }
    } else if (options.patience > 0 && epoch - best_epoch >= options.patience) {
      break;
    }
  }
  nn::load_into(*net, best_weights, {}, "the MLP's best epoch");
  return {std::make_unique<MlpModel>(std::move(net), scaler), best_epoch};
}

std::unique_ptr<ScoreModel> load_mlp(const std::filesystem::path& path, int num_features) {
  nn::StateDict state = nn::load_state_dict(path);
  const std::string where = path.string();
  auto take = [&](const std::string& name) {
    const auto it = std::find_if(state.begin(), state.end(),
                                 [&](const auto& item) { return item.first == name; });
    if (it == state.end()) fail("{}: no tensor '{}'; not a decider MLP", where, name);
    return it->second.to(torch::kFloat32).contiguous();
  };
  InputScaler scaler{take("input.mean"), take("input.scale")};
  if (scaler.mean.dim() != 1 || scaler.mean.size(0) != num_features ||
      scaler.scale.sizes() != scaler.mean.sizes()) {
    fail("{}: input.mean/input.scale have shapes {}/{} but decider.json lists {} features", where,
         shape_of(scaler.mean), shape_of(scaler.scale), num_features);
  }
  // The hidden widths: the output sizes of layers.0 .. layers.<L-1>, layers.<L> being the last.
  std::vector<int64_t> hidden;
  for (int i = 0;; ++i) {
    const std::string weight = "layers." + std::to_string(i) + ".weight";
    if (std::none_of(state.begin(), state.end(),
                     [&](const auto& item) { return item.first == weight; })) {
      break;
    }
    hidden.push_back(take(weight).size(0));
  }
  if (hidden.size() < 2 || hidden.back() != 1) {
    fail("{}: expected hidden layers then one output (layers.<i>.weight), found widths {}", where,
         hidden);
  }
  hidden.pop_back();
  MlpNet net(num_features, hidden, /*dropout=*/0.0);
  state.erase(std::remove_if(state.begin(), state.end(),
                             [](const auto& item) { return item.first.starts_with("input."); }),
              state.end());
  nn::load_into(*net, state, {}, where);
  return std::make_unique<MlpModel>(std::move(net), scaler);
}

}  // namespace doppel
