#include "bench/index_bench.h"

#include <faiss/Index.h>
#include <fmt/format.h>
#include <malloc.h>
#include <omp.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "index/exact_top_k.h"
#include "index/vector_index.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {
namespace {

constexpr int kK = 10;

double seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
double wall_now() { return seconds(CLOCK_MONOTONIC); }
double process_cpu_now() { return seconds(CLOCK_PROCESS_CPUTIME_ID); }
double thread_cpu_now() { return seconds(CLOCK_THREAD_CPUTIME_ID); }

// Anonymous resident memory of this process (RssAnon in /proc/self/status), after handing freed
// heap pages back to the kernel so that they do not count.
uint64_t rss_anon_bytes() {
  malloc_trim(0);
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("RssAnon:")) return std::stoull(line.substr(8)) * 1024;  // "... kB"
  }
  return 0;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(rank, values.size() - 1)];
}

// Search-time parameters go to the "search params" column; everything else names the index.
bool is_search_param(std::string_view part) {
  const size_t eq = part.find('=');
  return eq != std::string_view::npos && is_faiss_search_param(part.substr(0, eq));
}

void split_canonical(IndexBenchRow& row) {
  std::string index, params;
  std::string_view rest = row.canonical;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view part = rest.substr(0, comma);
    std::string& to = is_search_param(part) ? params : index;
    if (!to.empty()) to += ',';
    to += part;
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  row.index_part = index;
  row.search_params = params.empty() ? (index == "Flat" ? "exact" : "-") : params;
}

std::string first_line_after(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(prefix)) {
      const size_t colon = line.find(':');
      std::string value = colon == std::string::npos ? line : line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return {};
}

// Builds spec's index, saves it and loads it back: fills the build and memory figures of *row and
// returns the loaded index.
std::unique_ptr<VectorIndex> build_and_load(const std::string& spec, const VectorDataset& data,
                                            const IndexBenchOptions& options, size_t row_number,
                                            IndexBenchRow* out) {
  const size_t n = data.size();
  const auto nd = static_cast<double>(n);
  IndexBenchRow& row = *out;
  row.spec = spec;
  std::vector<int64_t> keys(n);
  for (size_t i = 0; i < n; ++i) keys[i] = static_cast<int64_t>(i);
  const std::filesystem::path path = options.work_dir / fmt::format("{}.index", row_number);

  // Build: train on a prefix, then add everything.
  auto index = make_index(spec, data.dim);
  row.canonical = index->spec();
  split_canonical(row);
  spdlog::info("bench index {}: training on {} rows", row.canonical,
               std::min(n, options.train_rows));
  double wall = wall_now(), cpu = process_cpu_now();
  index->train(std::min(n, options.train_rows), data.base.data());
  row.train_wall_s = wall_now() - wall;
  row.train_cpu_s = process_cpu_now() - cpu;
  index->save(path);
  const uint64_t trained_empty_bytes = std::filesystem::file_size(path);

  spdlog::info("bench index {}: adding {} rows", row.canonical, n);
  const uint64_t rss_before_add = rss_anon_bytes();
  wall = wall_now();
  cpu = process_cpu_now();
  index->add(n, data.base.data(), keys.data());
  row.add_wall_s = wall_now() - wall;
  row.add_cpu_s = process_cpu_now() - cpu;
  const uint64_t rss_after_add = rss_anon_bytes();
  row.rss_build_bytes_per_vector =
      (static_cast<double>(rss_after_add) - static_cast<double>(rss_before_add) +
       static_cast<double>(trained_empty_bytes)) /
      nd;

  index->save(path);
  row.file_bytes = std::filesystem::file_size(path);
  row.file_bytes_per_vector = static_cast<double>(row.file_bytes) / nd;
  index.reset();
  keys = {};

  const uint64_t rss_before_load = rss_anon_bytes();
  wall = wall_now();
  index = load_index(path);
  row.load_wall_s = wall_now() - wall;
  row.rss_load_bytes_per_vector =
      (static_cast<double>(rss_anon_bytes()) - static_cast<double>(rss_before_load)) / nd;
  if (!options.keep_index_files) std::filesystem::remove(path);

  return index;
}

// Times index's searches and scores its answers against truth, into *row.
void measure_search(const VectorIndex& index, const VectorDataset& data,
                    const std::vector<int64_t>& truth, const IndexBenchOptions& options,
                    IndexBenchRow* out) {
  IndexBenchRow& row = *out;
  row.canonical = index.spec();
  split_canonical(row);
  const size_t nq = data.num_queries();

  // Single-query latency on one thread.
  const size_t latency_n = std::min(options.latency_queries, nq);
  std::vector<double> wall_ms, cpu_ms;
  std::vector<float> one_scores(kK);
  std::vector<int64_t> one_keys(kK);
  const int threads_before = omp_get_max_threads();
  omp_set_num_threads(1);
  const double latency_start = wall_now();
  for (size_t q = 0; q < latency_n; ++q) {
    const double w = wall_now(), c = thread_cpu_now();
    index.search(1, &data.queries[q * static_cast<size_t>(data.dim)], kK, one_scores.data(),
                  one_keys.data());
    cpu_ms.push_back(1e3 * (thread_cpu_now() - c));
    wall_ms.push_back(1e3 * (wall_now() - w));
    if (wall_now() - latency_start > options.latency_budget_s) break;
  }
  omp_set_num_threads(threads_before);
  row.latency_queries = wall_ms.size();
  row.p50_ms = percentile(wall_ms, 0.50);
  row.p99_ms = percentile(wall_ms, 0.99);
  row.cpu_p50_ms = percentile(cpu_ms, 0.50);
  row.cpu_p99_ms = percentile(cpu_ms, 0.99);

  // Batch search with all threads; its results give the quality figures.
  row.batch_threads = options.threads > 0 ? options.threads : threads_before;
  omp_set_num_threads(row.batch_threads);
  std::vector<float> scores(nq * kK);
  std::vector<int64_t> found(nq * kK);
  const double wall = wall_now(), cpu = process_cpu_now();
  index.search(nq, data.queries.data(), kK, scores.data(), found.data());
  row.batch_wall_s = wall_now() - wall;
  row.batch_cpu_s = process_cpu_now() - cpu;
  omp_set_num_threads(threads_before);
  row.qps_wall = static_cast<double>(nq) / std::max(row.batch_wall_s, 1e-9);
  row.qps_per_core_s = static_cast<double>(nq) / std::max(row.batch_cpu_s, 1e-9);

  size_t top1 = 0, overlap = 0, dup1 = 0, dup10 = 0;
  for (size_t q = 0; q < nq; ++q) {
    const int64_t* got = &found[q * kK];
    const int64_t* want = &truth[q * kK];
    top1 += got[0] == want[0];
    for (int i = 0; i < kK; ++i) overlap += std::find(want, want + kK, got[i]) != want + kK;
    dup1 += got[0] == data.duplicate[q];
    dup10 += std::find(got, got + kK, data.duplicate[q]) != got + kK;
  }
  const auto qd = static_cast<double>(nq);
  row.recall_at_1 = static_cast<double>(top1) / qd;
  row.recall_at_10 = static_cast<double>(overlap) / (qd * kK);
  row.dup_at_1 = static_cast<double>(dup1) / qd;
  row.dup_at_10 = static_cast<double>(dup10) / qd;
  spdlog::info("bench index {}: recall@10 {:.3f}, dup@10 {:.3f}, CPU p50 {:.3f} ms, {:.0f} QPS",
               row.canonical, row.recall_at_10, row.dup_at_10, row.cpu_p50_ms, row.qps_wall);
}

// Whether spec's index takes the search-time parameters (tried on an empty one).
bool takes_search_params(const std::string& spec, int dim, const std::string& params) {
  try {
    make_index(spec, dim)->set_search_params(params);
    return true;
  } catch (const Error&) {
    return false;
  }
}

// One row for spec as given, then one per search variant it takes (applied over the spec's own
// search parameters), all measured on one built index.
std::vector<IndexBenchRow> bench_spec(const std::string& spec, const VectorDataset& data,
                                      const std::vector<int64_t>& truth,
                                      const IndexBenchOptions& options, size_t row_number) {
  IndexBenchRow built;
  auto index = build_and_load(spec, data, options, row_number, &built);
  std::vector<IndexBenchRow> rows;
  rows.push_back(built);
  measure_search(*index, data, truth, options, &rows.back());
  const std::string own_params = rows.front().search_params;
  for (const auto& params : options.search_variants) {
    if (!takes_search_params(spec, data.dim, params)) continue;
    index->set_search_params(own_params + "," + params);  // each variant on top of the spec's own
    rows.push_back(built);
    measure_search(*index, data, truth, options, &rows.back());
  }
  return rows;
}

}  // namespace

void IndexBenchOptions::validate() const {
  if (specs.empty()) fail("index bench: no specs given");
  if (work_dir.empty()) fail("index bench: work_dir is required");
  if (latency_queries == 0) fail("index bench: latency_queries must be positive");
  if (threads < 0) fail("index bench: threads must be >= 0, got {}", threads);
}

MachineInfo MachineInfo::current() {
  MachineInfo m;
  m.nproc = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  m.omp_threads = omp_get_max_threads();
  m.cpu_model = first_line_after("/proc/cpuinfo", "model name");
  const std::string mem = first_line_after("/proc/meminfo", "MemTotal");
  if (!mem.empty()) m.mem_total_bytes = std::stoull(mem) * 1024;
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char date[32];
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &utc);
  m.date_utc = date;
#ifdef FAISS_VERSION_MAJOR
  m.faiss_version =
      fmt::format("{}.{}.{}", FAISS_VERSION_MAJOR, FAISS_VERSION_MINOR, FAISS_VERSION_PATCH);
#else
  m.faiss_version = "unknown";
#endif
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  m.omp_wait_policy = policy != nullptr ? policy : "";
  return m;
}

std::vector<std::string> split_specs(const std::string& list) {
  std::vector<std::string> specs;
  std::stringstream in(list);
  std::string spec;
  while (std::getline(in, spec, ';')) {
    const size_t begin = spec.find_first_not_of(" \t");
    if (begin == std::string::npos) continue;
    specs.push_back(spec.substr(begin, spec.find_last_not_of(" \t") - begin + 1));
  }
  return specs;
}

std::vector<std::string> accepted_specs(const std::vector<std::string>& specs, int dim,
                                        std::vector<std::string>* rejected) {
  std::vector<std::string> accepted;
  for (const auto& spec : specs) {
    try {
      make_index(spec, dim);
      accepted.push_back(spec);
    } catch (const Error& e) {
      if (rejected != nullptr) rejected->push_back(fmt::format("{}: {}", spec, e.what()));
    }
  }
  return accepted;
}

IndexBenchReport run_index_bench(const VectorDataset& data, const IndexBenchOptions& options,
                                 const std::string& data_description) {
  options.validate();
  const size_t n = data.size();
  if (n == 0 || data.num_queries() == 0) fail("index bench: the dataset has no base or no queries");
  for (const auto& spec : options.specs) make_index(spec, data.dim);  // reject bad specs up front
  for (const auto& params : options.search_variants) {
    if (std::none_of(options.specs.begin(), options.specs.end(), [&](const std::string& spec) {
          return takes_search_params(spec, data.dim, params);
        })) {
      fail("index bench: search parameters \"{}\" apply to none of the specs", params);
    }
  }
  std::filesystem::create_directories(options.work_dir);

  IndexBenchReport report;
  report.machine = MachineInfo::current();
  report.data = data_description;
  report.n = n;
  report.dim = data.dim;
  report.queries = data.num_queries();
  report.k = kK;

  spdlog::info("bench index: exact top-{} of {} queries over {} vectors", kK, report.queries, n);
  std::vector<float> truth_scores(report.queries * kK);
  std::vector<int64_t> truth(report.queries * kK);
  const double wall = wall_now();
  exact_top_k(n, data.base.data(), data.dim, report.queries, data.queries.data(), kK,
              truth_scores.data(), truth.data());
  report.ground_truth_wall_s = wall_now() - wall;

  for (size_t i = 0; i < options.specs.size(); ++i) {
    for (auto& row : bench_spec(options.specs[i], data, truth, options, i)) {
      report.rows.push_back(std::move(row));
    }
  }
  return report;
}

std::string index_bench_markdown(const IndexBenchReport& r) {
  const auto& m = r.machine;
  std::string out = fmt::format(
      "# doppel index benchmark\n\n"
      "- Date: {}; machine: {} CPUs online ({}), {:.1f} GiB RAM; OpenMP threads {}; FAISS {}.\n"
      "- OMP_WAIT_POLICY={}{}\n"
      "- Data: {}\n"
      "- n = {}, d = {}, {} queries, k = {}; exact ground truth (exact_top_k) in {:.1f} s.\n"
      "- Metric: inner product on L2-normalised vectors (= cosine). recall@1 = P(top-1 == exact "
      "top-1); recall@10 = |top-10 ∩ exact top-10| / 10; dup@10 = P(the query's duplicate is in "
      "the top-10) (dup@1 in results.json).\n"
      "- B/vec = saved file / n. RSS build = (anonymous-RSS growth over add() + trained empty "
      "index file) / n; RSS load = anonymous-RSS growth over load_index() / n (same process, "
      "after malloc_trim). Search runs on the loaded index.\n"
      "- Latency: single queries on 1 thread (count per row in results.json); p50/p99 = wall, "
      "CPU p50/p99 = thread CPU time (compare these). QPS {}t = one batch of all queries with {} "
      "threads, wall; QPS per core-s = queries / process CPU seconds of that batch.\n\n",
      m.date_utc, m.nproc, m.cpu_model, static_cast<double>(m.mem_total_bytes) / (1 << 30),
      m.omp_threads, m.faiss_version, m.omp_wait_policy.empty() ? "(unset)" : m.omp_wait_policy,
      m.omp_wait_policy == "PASSIVE"
          ? ""
          : " — set OMP_WAIT_POLICY=PASSIVE on a shared machine: libgomp's spinning threads stall "
            "FAISS's short parallel regions (see the FAISS anchor).",
      r.data, r.n, r.dim, r.queries, r.k, r.ground_truth_wall_s,
      r.rows.empty() ? 0 : r.rows[0].batch_threads, r.rows.empty() ? 0 : r.rows[0].batch_threads);
  const int t = r.rows.empty() ? 0 : r.rows[0].batch_threads;
  out += fmt::format(
      "| index | search params | recall@1 | recall@10 | dup@10 | B/vec (file) | RSS build B/vec | "
      "RSS load B/vec | train s wall (cpu) | add s wall (cpu) | p50 ms | p99 ms | CPU p50 ms | "
      "CPU p99 ms | QPS {}t (wall) | QPS per core-s |\n"
      "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
      t);
  for (const auto& row : r.rows) {
    out += fmt::format(
        "| {} | {} | {:.3f} | {:.3f} | {:.3f} | {:.1f} | {:.0f} | {:.0f} | {:.1f} ({:.1f}) | "
        "{:.1f} ({:.1f}) | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {:.0f} | {:.0f} |\n",
        row.index_part, row.search_params, row.recall_at_1, row.recall_at_10, row.dup_at_10,
        row.file_bytes_per_vector, row.rss_build_bytes_per_vector, row.rss_load_bytes_per_vector,
        row.train_wall_s, row.train_cpu_s, row.add_wall_s, row.add_cpu_s, row.p50_ms, row.p99_ms,
        row.cpu_p50_ms, row.cpu_p99_ms, row.qps_wall, row.qps_per_core_s);
  }
  return out;
}

std::string index_bench_json(const IndexBenchReport& r) {
  const auto& m = r.machine;
  nlohmann::json j;
  j["machine"] = {{"nproc", m.nproc},
                  {"omp_threads", m.omp_threads},
                  {"cpu_model", m.cpu_model},
                  {"mem_total_bytes", m.mem_total_bytes},
                  {"date_utc", m.date_utc},
                  {"faiss_version", m.faiss_version},
                  {"omp_wait_policy", m.omp_wait_policy}};
  j["data"] = {{"description", r.data}, {"n", r.n}, {"dim", r.dim},
               {"queries", r.queries},  {"k", r.k}, {"ground_truth_wall_s", r.ground_truth_wall_s}};
  j["rows"] = nlohmann::json::array();
  for (const auto& row : r.rows) {
    j["rows"].push_back({{"spec", row.spec},
                         {"canonical", row.canonical},
                         {"index", row.index_part},
                         {"search_params", row.search_params},
                         {"recall_at_1", row.recall_at_1},
                         {"recall_at_10", row.recall_at_10},
                         {"dup_at_1", row.dup_at_1},
                         {"dup_at_10", row.dup_at_10},
                         {"file_bytes", row.file_bytes},
                         {"file_bytes_per_vector", row.file_bytes_per_vector},
                         {"rss_build_bytes_per_vector", row.rss_build_bytes_per_vector},
                         {"rss_load_bytes_per_vector", row.rss_load_bytes_per_vector},
                         {"train_wall_s", row.train_wall_s},
                         {"train_cpu_s", row.train_cpu_s},
                         {"add_wall_s", row.add_wall_s},
                         {"add_cpu_s", row.add_cpu_s},
                         {"load_wall_s", row.load_wall_s},
                         {"latency_queries", row.latency_queries},
                         {"p50_ms", row.p50_ms},
                         {"p99_ms", row.p99_ms},
                         {"cpu_p50_ms", row.cpu_p50_ms},
                         {"cpu_p99_ms", row.cpu_p99_ms},
                         {"batch_threads", row.batch_threads},
                         {"batch_wall_s", row.batch_wall_s},
                         {"batch_cpu_s", row.batch_cpu_s},
                         {"qps_wall", row.qps_wall},
                         {"qps_per_core_s", row.qps_per_core_s}});
  }
  return j.dump(2) + "\n";
}

void write_index_bench(const IndexBenchReport& report, const std::filesystem::path& out_dir) {
  std::filesystem::create_directories(out_dir);
  write_file_atomic(out_dir / "results.md", index_bench_markdown(report));
  write_file_atomic(out_dir / "results.json", index_bench_json(report));
}

}  // namespace doppel
