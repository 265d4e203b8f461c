// dot_bench — the dot-product kernel of the vector searches (index/inner_products.h) beside the
// obvious alternative, OpenBLAS's cblas_sgemm, in the same run: GFLOP/s at block shapes the
// searches meet (one query, a list scan's queries × rows, a coarse step's block × centroids), and
// for each the share of a query's scores whose bits change when it is scored as one of four
// queries instead of alone (0 for the kernel by construction; BLAS's is why doppel stopped using
// it for search, docs/decisions.md "Dot products in one fixed order, not BLAS").
// Threads: one (the calling thread; OpenBLAS is held to it for the run).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace doppel {

struct DotShape {
  size_t queries = 0;
  size_t rows = 0;
};

struct DotBenchRow {
  DotShape shape;
  double kernel_gflops = 0, blas_gflops = 0;  // medians over the repetitions
  double blas_changed = 0;    // share of a query's scores that differ alone vs one of four
  double kernel_changed = 0;  // the same for the kernel
};

// Random normal data of `dim` floats a row; each shape timed `repetitions` times for at least
// ~0.2 s of products each, after one untimed pass.
std::vector<DotBenchRow> run_dot_bench(const std::vector<DotShape>& shapes, size_t dim,
                                       int repetitions);

std::string dot_bench_markdown(const std::vector<DotBenchRow>& rows, size_t dim);

}  // namespace doppel
