// doppel bench text|index: speed and quality of components, side by side with alternatives.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <omp.h>
#include <spdlog/spdlog.h>
#include <cstdio>

#include "bench/decider_bench.h"
#include "bench/dot_bench.h"
#include "bench/index_bench.h"
#include "bench/synthetic_vectors.h"
#include "bench/text_bench.h"
#include "pipeline/candidates.h"
#include "pipeline/match_models.h"
#include "pipeline/neural_plugin.h"
#include "pipeline/text_jobs.h"
#include "pipeline/workspace.h"
#include "text/neural_text_encoder.h"
#include "tools/doppel/commands.h"
#include "util/error.h"
#include "util/neural_plugin.h"

namespace doppel {
namespace {

// An untrained encoder shape for bench text.
struct EncoderShape {
  BertConfig bert;
  TokenCnnHeadConfig head;
};

// "L4-H256" -> a BERT of 4 layers, hidden 256, hidden/64 heads (at least 2), FFN 4 x hidden, with
// default_head_for() it; optional suffixes change the head: -F2 feeds it the last 2 layers, -B64
// its bottleneck (-B0: none), -C128 its convolution channels ("L4-H128-F2-B0-C128").
EncoderShape parse_encoder_shape(const std::string& shape) {
  int layers = 0, hidden = 0, consumed = 0;
  if (std::sscanf(shape.c_str(), "L%d-H%d%n", &layers, &hidden, &consumed) != 2 || layers <= 0 ||
      hidden <= 0) {
    fail("--shapes: \"{}\" is not a shape like L4-H256", shape);
  }
  EncoderShape s;
  s.bert.num_hidden_layers = layers;
  s.bert.hidden_size = hidden;
  s.bert.num_attention_heads = std::max(2, hidden / 64);
  s.bert.intermediate_size = 4 * hidden;
  s.bert.validate();
  s.head = default_head_for(s.bert);
  for (size_t at = static_cast<size_t>(consumed); at < shape.size();) {
    char field = 0;
    int value = 0, used = 0;
    if (std::sscanf(shape.c_str() + at, "-%c%d%n", &field, &value, &used) != 2 || value < 0) {
      fail("--shapes: \"{}\": expected -F<layers>, -B<bottleneck> or -C<channels> at \"{}\"",
           shape, shape.substr(at));
    }
    at += static_cast<size_t>(used);
    if (field == 'F' && value > 0 && value <= layers + 1) {
      s.head.layers.clear();
      for (int l = -value; l <= -1; ++l) s.head.layers.push_back(l);
    } else if (field == 'B') {
      s.head.bottleneck = value;
    } else if (field == 'C') {
      s.head.channels = value;
    } else {
      fail("--shapes: \"{}\": -{}{} is not a head setting (-F1..-F{}, -B, -C)", shape, field,
           value, layers + 1);
    }
  }
  s.head.validate(layers);
  return s;
}

// "F4 B128 C256": the head's layers fed, bottleneck and channels, for bench rows.
std::string head_summary(const TokenCnnHeadConfig& head) {
  return fmt::format("F{} B{} C{}", head.layers.size(), head.bottleneck, head.channels);
}

void add_bench_text(CLI::App& bench) {
  auto* cmd = bench.add_subcommand(
      "text", "Titles/s of the classical and BERT text encoders on a workspace's listings");
  static std::string ws;
  static std::vector<std::string> shapes;
  static int reps = 3;
  static size_t max_listings = 20000;
  cmd->add_option("workspace", ws, "Workspace folder (its listings are encoded)")->required();
  cmd->add_option("--shapes", shapes,
                  "Also untrained BERTs of these shapes, e.g. L2-H128 L4-H256; head suffixes "
                  "-F<layers fed> -B<bottleneck> -C<channels>, e.g. L4-H128-F2-B0-C128");
  cmd->add_option("--reps", reps, "Timed passes per encoder")->capture_default_str();
  cmd->add_option("--max-listings", max_listings, "Encode at most this many listings")
      ->capture_default_str();
  static NeuralTextEncoder::Options bert_options;
  cmd->add_option("--batch", bert_options.batch_size, "BERT: texts per forward pass")
      ->capture_default_str();
  cmd->callback([] {
    auto workspace = Workspace::open(ws);
    auto listings = workspace.catalog().all_listings();
    if (listings.size() > max_listings) listings.resize(max_listings);
    std::vector<std::unique_ptr<Encoder>> owned;
    std::vector<NamedEncoder> encoders;
    owned.push_back(load_vector_encoder(workspace, TextEncoderChoice::kClassical));
    encoders.push_back({owned.back()->name(), owned.back().get()});
    const auto model_dir = workspace.text_model_dir();
    if (NeuralTextEncoder::exists(model_dir)) {
      owned.push_back(neural_plugin().load_text_encoder(model_dir, bert_options));
      const auto head = TokenCnnHeadConfig::load(model_dir / TextModelFiles::kEncoder);
      encoders.push_back({fmt::format("{} {} (trained)", owned.back()->name(), head_summary(head)),
                          owned.back().get()});
    }
    for (const std::string& shape : shapes) {
      const EncoderShape parsed = parse_encoder_shape(shape);
      owned.push_back(
          neural_plugin().random_text_encoder(model_dir, parsed.bert, parsed.head, bert_options));
      encoders.push_back({fmt::format("{} {} (random weights)", owned.back()->name(),
                                      head_summary(parsed.head)),
                          owned.back().get()});
    }
    auto rows = run_text_bench(listings, encoders, reps);
    fmt::print("{}", text_bench_markdown(rows, neural_threads()));
  });
}

}  // namespace

void add_bench_decider(CLI::App& bench) {
  auto* cmd = bench.add_subcommand(
      "decider", "Pairs/s of the workspace's decider on dedup's candidate pairs, beside a cosine "
                 "threshold in the same run");
  static std::string ws;
  static int k = 10, reps = 3;
  static size_t max_pairs = 200000;
  cmd->add_option("workspace", ws, "Workspace folder (trained decider and text index)")->required();
  cmd->add_option("-k,--k", k, "Candidates per listing by text vector")->capture_default_str();
  cmd->add_option("--max-pairs", max_pairs, "Score at most this many pairs")->capture_default_str();
  cmd->add_option("--reps", reps, "Timed passes per method")->capture_default_str();
  static std::vector<std::string> more_deciders;
  cmd->add_option("--also", more_deciders,
                  "Another trained decider folder (same features) to time beside the "
                  "workspace's, e.g. an MLP next to XGBoost; repeatable");
  cmd->callback([] {
    auto workspace = Workspace::open(ws);
    auto models = MatchModels::load(workspace, /*need_decider=*/true, /*need_index=*/true);
    std::vector<Decider> more;
    const auto names = models.featurizer->layout().names();
    const std::vector<std::string_view> name_views(names.begin(), names.end());
    for (const auto& dir : more_deciders) more.push_back(Decider::load(dir, name_views));
    std::vector<Decider*> deciders = {models.decider.get()};
    for (auto& decider : more) deciders.push_back(&decider);
    auto pairs = candidate_pairs(
        nearest_neighbours(*models.index, *models.featurizer, models.featurizer->keys(), k));
    if (pairs.size() > max_pairs) pairs.resize(max_pairs);
    const auto rows = run_decider_bench(*models.featurizer, deciders, pairs, reps);
    fmt::print("{}", decider_bench_markdown(rows, omp_get_max_threads(),
                                            models.featurizer->layout().groups()));
  });
}

void add_bench_dot(CLI::App& bench) {
  auto* cmd = bench.add_subcommand(
      "dot",
      "GFLOP/s of the search's dot-product kernel beside OpenBLAS sgemm, and whether a "
      "query's scores change with its batch");
  static size_t dim = 128;
  static int reps = 5;
  static std::vector<std::string> shapes = {"1x240",  "4x240",   "16x240",
                                            "1x4096", "64x4096", "256x1024"};
  cmd->add_option("--dim", dim, "Dimensions")->capture_default_str();
  cmd->add_option("--reps", reps, "Timed passes per shape and method")->capture_default_str();
  cmd->add_option("--shapes", shapes, "Blocks as QUERIESxROWS")->capture_default_str();
  cmd->callback([] {
    std::vector<DotShape> parsed;
    for (const std::string& shape : shapes) {
      DotShape s;
      char x = 0;
      if (std::sscanf(shape.c_str(), "%zu%c%zu", &s.queries, &x, &s.rows) != 3 || x != 'x' ||
          s.queries == 0 || s.rows == 0) {
        fail("--shapes: \"{}\" is not QUERIESxROWS with both positive (e.g. 16x240)", shape);
      }
      parsed.push_back(s);
    }
    fmt::print("{}", dot_bench_markdown(run_dot_bench(parsed, dim, reps), dim));
  });
}

void add_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Benchmark doppel's components");
  cmd->require_subcommand(1);

  add_bench_text(*cmd);
  add_bench_decider(*cmd);
  add_bench_dot(*cmd);
  add_bench_images(*cmd);
  add_bench_serve(*cmd);
  add_bench_fill_image_vectors(*cmd);
  auto* index = cmd->add_subcommand(
      "index",
      "Benchmark index specs on synthetic vectors with known duplicates (or a workspace's "
      "stored vectors): recall, dup@10, memory, build time, latency, QPS");
  static SyntheticVectorOptions data_options;
  static IndexBenchOptions options;
  static std::string specs = "Flat;IVF4096,Flat,nprobe=16;HNSW32", search_variants, out, ws,
                     space = "text";
  static int threads = 0;
  index->add_option("--n", data_options.n, "Synthetic base vectors")->capture_default_str();
  index->add_option("--dim", data_options.dim, "Synthetic dimensions")->capture_default_str();
  index->add_option("--queries", data_options.queries, "Queries (perturbed copies of base rows)")
      ->capture_default_str();
  index->add_option("--specs", specs, "Index specs separated by ';' (specs contain commas)")
      ->capture_default_str();
  index->add_option("--out", out, "Output folder for results.md and results.json")->required();
  index->add_option("--search-params", search_variants,
                    "Also measure each built index at these search-time parameter sets, "
                    "separated by ';' (e.g. \"nprobe=128,k_factor=16;nprobe=256\"), without "
                    "rebuilding; a set is skipped for specs it does not apply to");
  index->add_option("--seed", data_options.seed, "Data seed")->capture_default_str();
  index->add_option("--threads", threads, "Threads for building and batch search (default: all)");
  index->add_option("--train-rows", options.train_rows, "Rows passed to train() (capped at n)")
      ->capture_default_str();
  index->add_option("--latency-queries", options.latency_queries, "Single queries timed per spec")
      ->capture_default_str();
  index
      ->add_option("--latency-budget", options.latency_budget_s,
                   "Seconds of single-query timing per spec at most")
      ->capture_default_str();
  index->add_flag("--keep-indexes", options.keep_index_files,
                  "Keep the built index files in OUT/indexes");
  index->add_option("--workspace", ws,
                    "Benchmark this workspace's stored vectors instead of synthetic ones: queries "
                    "are perturbed copies of random stored vectors (see index_bench.h)");
  index->add_option("--space", space, "Vector space of --workspace")->capture_default_str();
  index->callback([] {
    if (threads > 0) {
      omp_set_num_threads(threads);
      set_neural_threads(threads);
    }
    options.threads = threads;
    options.work_dir = std::filesystem::path(out) / "indexes";
    VectorDataset data;
    std::string description;
    if (ws.empty()) {
      spdlog::info("bench index: generating {} × {} synthetic vectors", data_options.n,
                   data_options.dim);
      data = make_synthetic_vectors(data_options);
      description = fmt::format(
          "synthetic (doppel bench): {} clusters of ~{} (lognormal weights, intra-cluster cos "
          "~{}..{}), anisotropic rotated spectrum + shared mean direction, L2-normalised, seed "
          "{}; each query a perturbed copy of a distinct base vector (cos {}..{}) = its duplicate",
          std::max<size_t>(1, data_options.n / data_options.vectors_per_cluster),
          data_options.vectors_per_cluster, data_options.min_cluster_cos,
          data_options.max_cluster_cos, data_options.seed, data_options.min_duplicate_cos,
          data_options.max_duplicate_cos);
    } else {
      auto workspace = Workspace::open(ws);
      auto stored = workspace.catalog().vectors(space);
      if (stored.dim == 0) fail("{}: no vectors in space \"{}\"; run doppel embed", ws, space);
      data.dim = stored.dim;
      data.base = std::move(stored.data);
      add_duplicate_queries(data, std::min(data_options.queries, data.size()), data_options.seed,
                            data_options.min_duplicate_cos, data_options.max_duplicate_cos);
      description = fmt::format(
          "workspace {} space \"{}\" ({} stored vectors); each query a perturbed copy (cos "
          "{}..{}) of a random stored vector, which is its 'duplicate' (not a real duplicate "
          "listing)",
          ws, space, data.size(), data_options.min_duplicate_cos, data_options.max_duplicate_cos);
    }
    std::vector<std::string> rejected;
    options.specs = accepted_specs(split_specs(specs), data.dim, &rejected);
    options.search_variants = split_specs(search_variants);
    for (const auto& why : rejected) fmt::print("skip {}\n", why);
    if (options.specs.empty()) fail("bench index: none of the specs is accepted");
    auto report = run_index_bench(data, options, description);
    write_index_bench(report, out);
    if (!options.keep_index_files) std::filesystem::remove_all(options.work_dir);
    fmt::print("{}\nwrote {}/results.md and {}/results.json\n", index_bench_markdown(report), out,
               out);
  });
}

}  // namespace doppel
