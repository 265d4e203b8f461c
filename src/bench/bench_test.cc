#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "bench/dot_bench.h"
#include "bench/index_bench.h"
#include "bench/synthetic_vectors.h"
#include "index/exact_search.h"
#include "util/error.h"

namespace doppel {
namespace {

double dot(const float* a, const float* b, int d) {
  double s = 0;
  for (int j = 0; j < d; ++j) s += static_cast<double>(a[j]) * b[j];
  return s;
}

SyntheticVectorOptions small_options() {
  SyntheticVectorOptions o;
  o.n = 5000;
  o.dim = 32;
  o.queries = 200;
  o.seed = 7;
  return o;
}

TEST(SyntheticVectors, DeterministicPerSeed) {
  const auto a = make_synthetic_vectors(small_options());
  const auto b = make_synthetic_vectors(small_options());
  EXPECT_EQ(a.base, b.base);
  EXPECT_EQ(a.queries, b.queries);
  EXPECT_EQ(a.duplicate, b.duplicate);
  auto other = small_options();
  other.seed = 8;
  EXPECT_NE(make_synthetic_vectors(other).base, a.base);
}

TEST(SyntheticVectors, UnitRowsAndDuplicateCosineInRange) {
  const auto o = small_options();
  const auto data = make_synthetic_vectors(o);
  ASSERT_EQ(data.size(), o.n);
  ASSERT_EQ(data.num_queries(), o.queries);
  for (size_t i = 0; i < data.size(); i += 97) {
    EXPECT_NEAR(dot(&data.base[i * 32], &data.base[i * 32], 32), 1.0, 1e-4);
  }
  std::vector<int64_t> rows = data.duplicate;
  std::sort(rows.begin(), rows.end());
  EXPECT_EQ(std::unique(rows.begin(), rows.end()), rows.end()) << "duplicates must be distinct";
  double lo = 1, hi = 0;
  for (size_t q = 0; q < data.num_queries(); ++q) {
    const float* query = &data.queries[q * 32];
    EXPECT_NEAR(dot(query, query, 32), 1.0, 1e-4);
    const double c = dot(query, &data.base[static_cast<size_t>(data.duplicate[q]) * 32], 32);
    lo = std::min(lo, c);
    hi = std::max(hi, c);
  }
  EXPECT_GE(lo, o.min_duplicate_cos - 1e-4);
  EXPECT_LE(hi, o.max_duplicate_cos + 1e-4);
  EXPECT_LT(lo, 0.91);  // the range is actually used
  EXPECT_GT(hi, 0.98);
}

TEST(SyntheticVectors, RejectsBadOptions) {
  auto o = small_options();
  o.queries = o.n + 1;
  EXPECT_THROW(make_synthetic_vectors(o), Error);
  o = small_options();
  o.min_duplicate_cos = 0.99f;
  o.max_duplicate_cos = 0.9f;
  EXPECT_THROW(make_synthetic_vectors(o), Error);
}

TEST(IndexBench, FlatAndHnswOnSmallData) {
  auto o = small_options();
  const auto data = make_synthetic_vectors(o);
  IndexBenchOptions options;
  options.specs = split_specs("Flat; HNSW32;");
  ASSERT_EQ(options.specs, (std::vector<std::string>{"Flat", "HNSW32"}));
  options.latency_queries = 50;
  options.work_dir = std::filesystem::temp_directory_path() / "doppel_bench_test";
  const auto report = run_index_bench(data, options, "test data");
  ASSERT_EQ(report.rows.size(), 2u);
  const auto& flat = report.rows[0];
  EXPECT_EQ(flat.index_part, "Flat");
  EXPECT_EQ(flat.search_params, "exact");
  EXPECT_DOUBLE_EQ(flat.recall_at_1, 1.0);
  EXPECT_DOUBLE_EQ(flat.recall_at_10, 1.0);
  EXPECT_GT(flat.dup_at_10, 0.9);
  EXPECT_LE(flat.dup_at_10, 1.0);
  // Flat stores 4d bytes per vector plus ids and a small header.
  EXPECT_GE(flat.file_bytes_per_vector, 4.0 * 32);
  EXPECT_LE(flat.file_bytes_per_vector, 4.0 * 32 + 8 + 1);
  EXPECT_EQ(flat.latency_queries, 50u);
  EXPECT_GT(flat.qps_wall, 0);
  const auto& hnsw = report.rows[1];
  EXPECT_EQ(hnsw.index_part, "HNSW32,efConstruction=200");
  EXPECT_EQ(hnsw.search_params, "efSearch=128");
  EXPECT_GT(hnsw.recall_at_10, 0.9);
  EXPECT_FALSE(std::filesystem::exists(options.work_dir / "0.index"));

  const std::string table = index_bench_markdown(report);
  EXPECT_NE(table.find("| index | search params | recall@1 | recall@10 | dup@10 |"),
            std::string::npos);
  EXPECT_NE(table.find("| Flat | exact | 1.000 | 1.000 |"), std::string::npos) << table;
  EXPECT_NE(index_bench_json(report).find("\"dup_at_1\""), std::string::npos);
  std::filesystem::remove_all(options.work_dir);
}

// Search variants: extra rows on the same build, only for the specs that take them.
TEST(IndexBench, SearchVariantsMeasureOneBuildAtSeveralOperatingPoints) {
  auto o = small_options();
  const auto data = make_synthetic_vectors(o);
  IndexBenchOptions options;
  options.specs = {"Flat", "IVF64,Flat,nprobe=1"};
  options.search_variants = split_specs("nprobe=64;");  // Flat does not take it
  options.latency_queries = 20;
  options.work_dir = std::filesystem::temp_directory_path() / "doppel_bench_variants";
  const auto report = run_index_bench(data, options, "test data");
  ASSERT_EQ(report.rows.size(), 3u);  // Flat; IVF at nprobe 1; IVF at nprobe 64
  EXPECT_EQ(report.rows[1].search_params, "nprobe=1");
  EXPECT_EQ(report.rows[2].search_params, "nprobe=64");
  EXPECT_EQ(report.rows[2].index_part, "IVF64,Flat");
  EXPECT_EQ(report.rows[2].add_wall_s, report.rows[1].add_wall_s);  // one build
  EXPECT_LT(report.rows[1].recall_at_10, 0.9);
  EXPECT_DOUBLE_EQ(report.rows[2].recall_at_10, 1.0);  // every list probed = exact

  options.search_variants = {"efSearch=16"};  // HNSW only: applies to no spec here
  EXPECT_THROW(run_index_bench(data, options, "test data"), Error);
  std::filesystem::remove_all(options.work_dir);
}

TEST(IndexBench, SkipsSpecsMakeIndexRejects) {
  std::vector<std::string> rejected;
  const auto ok = accepted_specs({"Flat", "NoSuchIndex", "IVF256,Flat,nprobe=8"}, 32, &rejected);
  EXPECT_EQ(ok, (std::vector<std::string>{"Flat", "IVF256,Flat,nprobe=8"}));
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_NE(rejected[0].find("NoSuchIndex"), std::string::npos);
}

TEST(DotBench, TimesBothAndFindsTheKernelBatchIndependent) {
  const auto rows = run_dot_bench({{1, 40}, {6, 70}}, 13, 1);
  ASSERT_EQ(rows.size(), 2u);
  for (const DotBenchRow& row : rows) {
    EXPECT_GT(row.kernel_gflops, 0);
    EXPECT_GT(row.blas_gflops, 0);
    EXPECT_EQ(row.kernel_changed, 0);
    EXPECT_GE(row.blas_changed, 0);
  }
  EXPECT_NE(dot_bench_markdown(rows, 13).find("| 6 × 70 |"), std::string::npos);
}

}  // namespace
}  // namespace doppel
