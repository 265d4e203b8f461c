#include "nn/linear.h"

#include <gtest/gtest.h>

namespace doppel::nn {
namespace {

TEST(Linear, WithoutAutogradMatchesTorchsLinear) {
  torch::manual_seed(3);
  const auto x = torch::randn({4, 7, 24});
  const auto weight = torch::randn({40, 24});
  const auto bias = torch::randn({40});
  const auto expected = torch::nn::functional::linear(x, weight, bias);
  torch::InferenceMode inference;
  const auto got = doppel::nn::linear(x, weight, bias);
  EXPECT_EQ(got.sizes(), expected.sizes());
  EXPECT_TRUE(torch::allclose(got, expected, 1e-4, 1e-5));
  // A transposed (non-contiguous) input and no bias.
  const auto xt = torch::randn({24, 5}).t();
  EXPECT_TRUE(
      torch::allclose(doppel::nn::linear(xt, weight), torch::matmul(xt, weight.t()), 1e-4, 1e-5));
}

TEST(Linear, WithAutogradGivesGradients) {
  auto weight = torch::randn({3, 5}, torch::requires_grad());
  const auto x = torch::randn({2, 5});
  doppel::nn::linear(x, weight).sum().backward();
  ASSERT_TRUE(weight.grad().defined());
  EXPECT_TRUE(torch::allclose(weight.grad(), x.sum(0).expand({3, 5})));
}

}  // namespace
}  // namespace doppel::nn
