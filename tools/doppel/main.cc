// doppel — command-line entry point: global flags, logging, and the subcommands of
// tools/doppel/commands.h.
#include <CLI/CLI.hpp>
#include <omp.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>
#include <unistd.h>

#include "tools/doppel/commands.h"
#include "util/error.h"
#include "util/neural_plugin.h"
#include "util/progress.h"

namespace {

// libgomp's default busy-waiting makes OpenMP-parallel work (FAISS, XGBoost, torch) many times
// slower whenever another process shares the cores (measured 4x for FAISS training, 15x for MAE
// training here), and libgomp reads OMP_WAIT_POLICY only at load time. So doppel sets it to
// PASSIVE, unless the user chose a policy, and restarts itself once before doing any work.
void ensure_passive_openmp(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  execv("/proc/self/exe", argv);  // returns only on failure: then run on with the default policy
}

}  // namespace

int main(int argc, char** argv) {
  ensure_passive_openmp(argv);
  CLI::App app{"doppel — find duplicate product listings by title (and image)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "doppel " DOPPEL_VERSION);
  int threads = 0;
  bool quiet = false;
  app.add_option("--threads", threads, "Worker threads (default: all cores)");
  app.add_flag("-q,--quiet", quiet, "Only warnings and errors on stderr, no progress bars");
  // Logs and progress go to stderr so that stdout carries only results.
  spdlog::set_default_logger(spdlog::stderr_color_mt("doppel"));
  app.parse_complete_callback([&] {
    if (app.got_subcommand("serve")) doppel::block_stop_signals();
    // Set for OpenMP (FAISS, XGBoost, doppel's loops) and libtorch alike, every core by default:
    // libtorch's own default here is 1 thread (half the logical cores), and the first torch op
    // would impose it on OpenMP too, halving every later search or featurizer loop.
    const int workers = threads > 0 ? threads : omp_get_max_threads();
    omp_set_num_threads(workers);
    doppel::set_neural_threads(workers);
    spdlog::set_level(quiet ? spdlog::level::warn : spdlog::level::info);
    if (quiet) doppel::Progress::set_mode(doppel::Progress::Mode::kSilent);
    spdlog::set_pattern("%^%l%$: %v");
  });
  doppel::add_init(app);
  doppel::add_ingest(app);
  doppel::add_train(app);
  doppel::add_embed(app);
  doppel::add_index(app);
  doppel::add_dedup(app);
  doppel::add_merge(app);
  doppel::add_eval(app);
  doppel::add_eval_compare(app);
  doppel::add_eval_clusters(app);
  doppel::add_synth(app);
  doppel::add_bench(app);
  doppel::add_match(app);
  doppel::add_serve(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const doppel::Error& e) {
    std::cerr << "doppel: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "doppel: internal error: " << e.what() << "\n";
    return 70;
  }
  return 0;
}
