#include "nn/state_dict.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nn/safetensors.h"
#include "util/error.h"
#include "util/expect_error.h"
#include "util/process_temp_dir.h"

namespace doppel::nn {
namespace {

std::filesystem::path test_file(const std::string& name) {
  return process_temp_dir("doppel_nn_state_dict_test") / name;
}

struct BlockImpl : torch::nn::Module {
  explicit BlockImpl(int64_t dim)
      : linear(register_module("linear", torch::nn::Linear(dim, dim))),
        norm(register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})))) {}
  torch::Tensor forward(const torch::Tensor& x) { return norm(torch::relu(linear(x))); }
  torch::nn::Linear linear;
  torch::nn::LayerNorm norm;
};
TORCH_MODULE(Block);

// Parameters "blocks.<i>.linear.{weight,bias}", "blocks.<i>.norm.{weight,bias}", "head.{weight,
// bias}" and the buffer "offset", which the output depends on.
struct NetImpl : torch::nn::Module {
  NetImpl(int64_t dim, int layers, uint64_t seed) {
    torch::manual_seed(seed);
    for (int i = 0; i < layers; ++i) blocks->push_back(Block(dim));
    register_module("blocks", blocks);
    head = register_module("head", torch::nn::Linear(dim, 2));
    // LayerNorm starts at weight 1, bias 0 whatever the seed: make every tensor seed-dependent.
    torch::NoGradGuard no_grad;
    for (auto& p : parameters()) p.uniform_(-1, 1);
    offset = register_buffer("offset", torch::randn({dim}));
  }
  torch::Tensor forward(torch::Tensor x) {
    x = x + offset;
    for (const auto& block : *blocks) x = block->as<BlockImpl>()->forward(x);
    return head(x);
  }
  torch::nn::ModuleList blocks;
  torch::nn::Linear head{nullptr};
  torch::Tensor offset;
};
TORCH_MODULE(Net);

const torch::Tensor& find(const StateDict& state, const std::string& name) {
  for (const auto& [n, t] : state) {
    if (n == name) return t;
  }
  throw std::out_of_range(name);
}

TEST(StateDict, ModuleStateNamesParametersThenBuffers) {
  Net net(4, 2, 1);
  std::vector<std::string> names;
  for (const auto& [name, tensor] : module_state(*net, "bert.")) names.push_back(name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"bert.blocks.0.linear.weight", "bert.blocks.0.linear.bias",
                                      "bert.blocks.0.norm.weight", "bert.blocks.0.norm.bias",
                                      "bert.blocks.1.linear.weight", "bert.blocks.1.linear.bias",
                                      "bert.blocks.1.norm.weight", "bert.blocks.1.norm.bias",
                                      "bert.head.weight", "bert.head.bias", "bert.offset"}));
  // Shared storage: writing into the state writes the module.
  torch::NoGradGuard no_grad;
  find(module_state(*net), "head.bias").fill_(7);
  EXPECT_TRUE(torch::equal(net->head->bias, torch::full({2}, 7.0)));
}

TEST(StateDict, SavedModuleLoadsIntoAFreshOne) {
  Net trained(8, 2, 1);
  Net fresh(8, 2, 2);
  const auto x = torch::randn({5, 8});
  ASSERT_FALSE(torch::allclose(trained->forward(x), fresh->forward(x)));

  const auto path = test_file("net.safetensors");
  save_state_dict(path, module_state(*trained));
  EXPECT_EQ(SafetensorsFile::open(path).metadata(),
            (std::map<std::string, std::string>{{"format", "pt"}}));
  load_into(*fresh, load_state_dict(path), {}, path.string());
  EXPECT_TRUE(torch::equal(trained->forward(x), fresh->forward(x)));
  EXPECT_TRUE(torch::equal(trained->offset, fresh->offset));
  EXPECT_TRUE(fresh->head->weight.requires_grad());
}

TEST(StateDict, RoundTripsEveryDType) {
  StateDict state = {
      {"f64", torch::randn({2, 3}, torch::kFloat64)},
      {"f32_scalar", torch::tensor(3.5f)},
      {"f32_empty", torch::zeros({0, 4})},
      {"f32_transposed", torch::arange(6, torch::kFloat32).reshape({2, 3}).t()},
      {"f16", torch::randn({3}).to(torch::kFloat16)},
      {"bf16", torch::randn({3}).to(torch::kBFloat16)},
      {"i64", torch::tensor({int64_t{1} << 40, int64_t{-3}})},
      {"i32", torch::tensor({7, -8}, torch::kInt32)},
      {"i16", torch::tensor({300, -2}, torch::kInt16)},
      {"i8", torch::tensor({-128, 127}, torch::kInt8)},
      {"u8", torch::tensor({0, 255}, torch::kUInt8)},
      {"bool", torch::tensor({true, false, true})},
  };
  const auto path = test_file("dtypes.safetensors");
  save_state_dict(path, state, {});
  EXPECT_TRUE(SafetensorsFile::open(path).metadata().empty());
  const StateDict loaded = load_state_dict(path);
  ASSERT_EQ(loaded.size(), state.size());
  for (const auto& [name, tensor] : state) {
    SCOPED_TRACE(name);
    const torch::Tensor& back = find(loaded, name);
    EXPECT_EQ(back.scalar_type(), tensor.scalar_type());
    EXPECT_EQ(back.sizes(), tensor.sizes());
    EXPECT_TRUE(torch::equal(back, tensor));
    EXPECT_TRUE(back.is_contiguous());
  }
  const SafetensorsFile file = SafetensorsFile::open(path);
  EXPECT_EQ(file.find("f32_transposed")->shape, (std::vector<int64_t>{3, 2}));
}

TEST(StateDict, SaveRejectsDTypesSafetensorsCannotHold) {
  const auto path = test_file("complex.safetensors");
  const std::string msg = error_of([&] {
    save_state_dict(path, {{"z", torch::zeros({2}, torch::kComplexFloat)}});
  });
  EXPECT_NE(msg.find(path.string() + ": tensor \"z\": dtype ComplexFloat"), std::string::npos)
      << msg;
}

TEST(StateDict, StripsPrefixesAndIgnoresUnusedHeads) {
  Net trained(4, 1, 1);
  Net fresh(4, 1, 2);
  StateDict checkpoint = module_state(*trained, "bert.");
  checkpoint.emplace_back("cls.predictions.bias", torch::zeros({10}));

  LoadOptions options;
  options.strip_prefixes = {"roberta.", "bert."};
  options.ignore_unexpected = {"^cls\\."};
  load_into(*fresh, checkpoint, options, "ckpt.safetensors");
  const auto x = torch::randn({3, 4});
  EXPECT_TRUE(torch::equal(trained->forward(x), fresh->forward(x)));

  options.ignore_unexpected.clear();
  const std::string msg =
      error_of([&] { load_into(*fresh, checkpoint, options, "ckpt.safetensors"); });
  EXPECT_NE(msg.find("ckpt.safetensors: 1 checkpoint tensor(s) the model does not have: "
                     "cls.predictions.bias"),
            std::string::npos)
      << msg;
}

TEST(StateDict, ListsMissingAndUnexpectedTensors) {
  Net net(4, 2, 1);
  const StateDict prefixed = module_state(*net, "bert.");
  const std::string msg = error_of([&] { load_into(*net, prefixed, {}, "m.safetensors"); });
  EXPECT_NE(msg.find("m.safetensors: 11 model tensor(s) missing from the checkpoint: "
                     "blocks.0.linear.weight, blocks.0.linear.bias"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("head.bias and 1 more; 11 checkpoint tensor(s) the model does not have: "
                     "bert.blocks.0.linear.weight"),
            std::string::npos)
      << msg;
}

TEST(StateDict, AllowMissingKeepsTheInitialValue) {
  Net trained(4, 1, 1);
  Net fresh(4, 1, 2);
  const torch::Tensor initial_offset = fresh->offset.clone();
  StateDict checkpoint;
  for (const auto& entry : module_state(*trained)) {
    if (entry.first != "offset") checkpoint.push_back(entry);
  }
  const std::string msg = error_of([&] { load_into(*fresh, checkpoint, {}, "c.safetensors"); });
  EXPECT_NE(msg.find("c.safetensors: 1 model tensor(s) missing from the checkpoint: offset"),
            std::string::npos)
      << msg;
  // The failed load changed nothing.
  EXPECT_FALSE(torch::equal(fresh->head->weight, trained->head->weight));

  LoadOptions options;
  options.allow_missing = {"^offset$"};
  load_into(*fresh, checkpoint, options, "c.safetensors");
  EXPECT_TRUE(torch::equal(fresh->head->weight, trained->head->weight));
  EXPECT_TRUE(torch::equal(fresh->offset, initial_offset));
}

TEST(StateDict, ShapeMismatchNamesBothShapes) {
  Net big(8, 1, 1);
  Net small(4, 1, 2);
  const torch::Tensor before = small->blocks[0]->as<BlockImpl>()->linear->weight.clone();
  const std::string msg =
      error_of([&] { load_into(*small, module_state(*big), {}, "big.safetensors"); });
  EXPECT_NE(msg.find("big.safetensors: blocks.0.linear.weight: checkpoint shape [8,8], model "
                     "expects [4,4]"),
            std::string::npos)
      << msg;
  EXPECT_TRUE(torch::equal(small->blocks[0]->as<BlockImpl>()->linear->weight, before));

  const std::string prefixed = error_of([&] {
    load_into(*small, module_state(*big, "bert."), {{"bert."}, {}, {}}, "big.safetensors");
  });
  EXPECT_NE(prefixed.find("bert.blocks.0.linear.weight (as blocks.0.linear.weight): checkpoint "
                          "shape [8,8]"),
            std::string::npos)
      << prefixed;
}

TEST(StateDict, TwoCheckpointNamesForOneTensorIsAnError) {
  Net net(4, 1, 1);
  StateDict checkpoint = module_state(*net);
  checkpoint.emplace_back("bert.head.bias", torch::zeros({2}));
  const std::string msg = error_of([&] {
    load_into(*net, checkpoint, {{"bert."}, {}, {}}, "two.safetensors");
  });
  EXPECT_NE(msg.find("two.safetensors: checkpoint tensors head.bias and bert.head.bias both load "
                     "into head.bias"),
            std::string::npos)
      << msg;
}

TEST(StateDict, HalfCheckpointLoadsIntoFloatParameters) {
  Net trained(4, 1, 1);
  Net fresh(4, 1, 2);
  StateDict half;
  for (const auto& [name, tensor] : module_state(*trained)) {
    half.emplace_back(name, tensor.to(torch::kFloat16));
  }
  const auto path = test_file("half.safetensors");
  save_state_dict(path, half);
  const StateDict loaded = load_state_dict(path);
  EXPECT_EQ(find(loaded, "head.weight").scalar_type(), torch::kFloat16);
  load_into(*fresh, loaded, {}, path.string());
  EXPECT_EQ(fresh->head->weight.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(fresh->head->weight,
                           trained->head->weight.to(torch::kFloat16).to(torch::kFloat32)));
  EXPECT_FALSE(torch::equal(fresh->head->weight, trained->head->weight)) << "values were rounded";
}

TEST(StateDict, InvalidRegexIsAnError) {
  Net net(4, 1, 1);
  LoadOptions options;
  options.allow_missing = {"(unclosed"};
  const std::string msg = error_of([&] { load_into(*net, module_state(*net), options, "x"); });
  EXPECT_NE(msg.find("LoadOptions.allow_missing: invalid regex \"(unclosed\""), std::string::npos)
      << msg;
}

}  // namespace
}  // namespace doppel::nn
