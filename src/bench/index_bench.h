// index_bench — measures VectorIndex specs (anything make_index accepts) on a VectorDataset the
// way shared/anchors/faiss-on-this-machine.md measured FAISS, so the rows compare with the
// anchor's table. Per spec:
//
//   build      train() on the first train_rows base rows (rows are i.i.d., so a prefix is a
//              random sample), then add() of all n rows with keys = row numbers: wall seconds and
//              process CPU seconds (all threads) of each.
//   B/vec      saved file size / n (includes doppel's header and FAISS's ids, centroids, ...).
//   RSS build  (anonymous-RSS growth over add(), after malloc_trim, + file size of the trained
//              empty index) / n: what the index occupies in the process that built it. Training
//              stays outside the window, as in the anchor (OpenBLAS touches per-thread buffers
//              on the first large GEMM; that is not index memory). Includes doppel's key map.
//   RSS load   the built index is saved and destroyed, then load_index() runs in the same
//              process: anonymous-RSS growth over the load (after malloc_trim) / n.
//   quality    k = 10 on the loaded index, against exact ground truth (index/exact_top_k.h):
//              recall@1 = P(top-1 == exact top-1); recall@10 = |top-10 ∩ exact top-10| / 10;
//              dup@1 / dup@10 = P(the query's duplicate row is the top-1 / in the top-10).
//   latency    the first latency_queries queries one by one on 1 thread (omp_set_num_threads(1)),
//              stopping early once latency_budget_s of wall time is spent (Flat at 10M): p50/p99
//              of wall time and of the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID; robust
//              to preemption by other jobs: the figure to compare).
//   batch      one search() of all queries with `threads` threads: QPS = queries / wall seconds,
//              QPS per core-s = queries / process CPU seconds.
//
// Search parameters (nprobe, efSearch, ...) come from the spec itself. search_variants adds
// operating points without rebuilding: after the spec's own row, the loaded index is measured
// again with each variant set over the spec's parameters (VectorIndex::set_search_params), in a
// row of its own that repeats the build and memory figures. A variant is skipped for specs that
// do not take it and is an error when no spec does.
// Set OMP_WAIT_POLICY=PASSIVE in the environment on shared machines (libgomp reads it at start-up;
// see the anchor: spinning threads stall FAISS's short parallel regions by up to 4x).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/synthetic_vectors.h"

namespace doppel {

struct IndexBenchOptions {
  std::vector<std::string> specs;  // make_index specs, benchmarked in this order
  std::vector<std::string> search_variants;  // e.g. "nprobe=64,k_factor=16", see above
  size_t train_rows = 163'840;     // rows passed to train(), capped at n (anchor: 40 × 4096)
  size_t latency_queries = 1000;   // single-query latency sample (capped at the query count)
  double latency_budget_s = 30.0;  // per spec: stop the latency loop after this much wall time
  int threads = 0;                 // batch search threads; 0 = omp_get_max_threads()
  std::filesystem::path work_dir;  // where index files are saved and loaded (required)
  bool keep_index_files = false;   // keep work_dir/<row>.index after measuring

  void validate() const;
};

struct IndexBenchRow {
  std::string spec;           // as given
  std::string canonical;      // VectorIndex::spec() with every parameter written out
  std::string index_part;     // canonical minus search-time parameters, e.g. "IVF4096,Flat"
  std::string search_params;  // e.g. "nprobe=16"; "exact" for Flat
  double recall_at_1 = 0, recall_at_10 = 0, dup_at_1 = 0, dup_at_10 = 0;
  uint64_t file_bytes = 0;
  double file_bytes_per_vector = 0, rss_build_bytes_per_vector = 0, rss_load_bytes_per_vector = 0;
  double train_wall_s = 0, train_cpu_s = 0, add_wall_s = 0, add_cpu_s = 0, load_wall_s = 0;
  size_t latency_queries = 0;  // how many single queries were timed
  double p50_ms = 0, p99_ms = 0, cpu_p50_ms = 0, cpu_p99_ms = 0;
  int batch_threads = 0;
  double batch_wall_s = 0, batch_cpu_s = 0, qps_wall = 0, qps_per_core_s = 0;
};

// Where the numbers were taken.
struct MachineInfo {
  int nproc = 0;          // online CPUs
  int omp_threads = 0;    // omp_get_max_threads() at start
  std::string cpu_model;  // /proc/cpuinfo "model name"
  std::string date_utc;   // ISO 8601
  std::string faiss_version;
  std::string omp_wait_policy;  // OMP_WAIT_POLICY from the environment, "" when unset
  uint64_t mem_total_bytes = 0;
  static MachineInfo current();
};

struct IndexBenchReport {
  MachineInfo machine;
  std::string data;  // how the data was made (one line)
  size_t n = 0;
  int dim = 0;
  size_t queries = 0;
  int k = 10;
  double ground_truth_wall_s = 0;
  std::vector<IndexBenchRow> rows;
};

// Runs every spec on `data` (queries and their duplicates included). Error (before any building)
// when a spec is rejected by make_index; use accepted_specs() first to skip those instead.
// Progress is logged through spdlog.
IndexBenchReport run_index_bench(const VectorDataset& data, const IndexBenchOptions& options,
                                 const std::string& data_description);

// Splits specs into those make_index(spec, dim) accepts and "spec: reason" lines for the rest.
std::vector<std::string> accepted_specs(const std::vector<std::string>& specs, int dim,
                                        std::vector<std::string>* rejected);

// Splits "a;b;c" (specs contain commas, so ';' separates them); trims blanks, drops empties.
std::vector<std::string> split_specs(const std::string& list);

// The anchor's main-table columns plus a header with the machine and the data.
std::string index_bench_markdown(const IndexBenchReport& report);
std::string index_bench_json(const IndexBenchReport& report);
// Writes out_dir/results.md and out_dir/results.json (creating out_dir).
void write_index_bench(const IndexBenchReport& report, const std::filesystem::path& out_dir);

}  // namespace doppel
