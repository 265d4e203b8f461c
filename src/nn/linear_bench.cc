// nn_linear_bench — GFLOP/s of nn::linear (oneDNN) beside torch's functional::linear (OpenBLAS
// in Debian's libtorch) on the products of one BERT layer and the CNN head's bottleneck, for a
// batch of 128 titles of 20 tokens at hidden 128. The measurement behind nn/linear.h.
//
//   build-speed/src/nn/nn_linear_bench [threads]
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "nn/linear.h"

namespace {

template <typename Fn>
double best_ms(Fn fn) {
  fn();
  double best = 1e30;
  for (int rep = 0; rep < 20; ++rep) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double, std::milli>(
                              std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  at::set_num_threads(threads);
  torch::InferenceMode inference;
  const int64_t rows = 128 * 20;
  std::printf("%d thread(s), %lld token rows, best of 20\n\n", threads, static_cast<long long>(rows));
  std::printf("| product (in -> out) | functional::linear GFLOP/s | nn::linear GFLOP/s |\n|---|---:|---:|\n");
  const std::pair<int64_t, int64_t> shapes[] = {{128, 384}, {128, 128}, {128, 512}, {512, 128}};
  for (const auto& [in, out] : shapes) {
    const auto x = torch::randn({128, 20, in});
    const auto weight = torch::randn({out, in});
    const auto bias = torch::randn({out});
    const double gflop = 2.0 * static_cast<double>(rows * in * out) / 1e9;
    const double blas = best_ms([&] { return torch::nn::functional::linear(x, weight, bias); });
    const double dnnl = best_ms([&] { return doppel::nn::linear(x, weight, bias); });
    std::printf("| %lld -> %lld | %.0f | %.0f |\n", static_cast<long long>(in),
                static_cast<long long>(out), gflop / blas * 1e3, gflop / dnnl * 1e3);
  }
}
