// The doppel subcommands. Each add_* registers one command (with its flags) on the CLI; its
// callback parses nothing more and calls one library function, so the work lives in src/.
// Grouped by file: catalog_commands.cc (init, ingest, synth), train_commands.cc (train),
// run_commands.cc (embed, index, dedup, eval, eval-clusters), bench_commands.cc (bench),
// image_commands.cc (train image, bench images), match_command.cc (match), serve_command.cc
// (serve, bench serve).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "eval/metrics.h"

namespace doppel {

void add_init(CLI::App& app);
void add_ingest(CLI::App& app);
void add_synth(CLI::App& app);
void add_train(CLI::App& app);
void add_embed(CLI::App& app);
void add_index(CLI::App& app);
void add_dedup(CLI::App& app);
void add_merge(CLI::App& app);
void add_eval(CLI::App& app);
void add_eval_compare(CLI::App& app);
void add_eval_clusters(CLI::App& app);
void add_bench(CLI::App& app);
void add_train_image(CLI::App& train);    // image_commands.cc: `train image`
void add_bench_images(CLI::App& bench);   // image_commands.cc: `bench images`
void add_match(CLI::App& app);          // match_command.cc
void add_serve(CLI::App& app);          // serve_command.cc
// Blocks SIGINT and SIGTERM in the calling thread and the threads it starts later, for `serve`,
// which takes them with sigwait: main calls it before any thread pool starts.
void block_stop_signals();
void add_bench_serve(CLI::App& bench);  // serve_command.cc: `bench serve`, the load generator
// serve_command.cc: `bench fill-image-vectors`, synthetic image vectors for load tests
void add_bench_fill_image_vectors(CLI::App& bench);

// One line of precision, recall, F1, macro F1 and threshold, prefixed with `what`.
void print_metrics(const std::string& what, const BinaryMetrics& m);

}  // namespace doppel
