// doppel — command-line entry point. Each subcommand parses its flags and calls one library
// function; the work lives in src/.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <omp.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <iostream>
#include <sstream>

#include "bench/index_bench.h"
#include "bench/text_bench.h"
#include "bench/synthetic_vectors.h"
#include "pipeline/decider_job.h"
#include "pipeline/dedup_job.h"
#include "pipeline/eval_job.h"
#include "pipeline/index_job.h"
#include "pipeline/ingest_job.h"
#include "pipeline/text_jobs.h"
#include "pipeline/text_model_jobs.h"
#include "pipeline/workspace.h"
#include "text/neural_text_encoder.h"
#include "nn/threads.h"
#include "synth/catalog_synth.h"
#include "util/error.h"
#include "util/progress.h"

namespace doppel {
namespace {

void print_metrics(const std::string& what, const BinaryMetrics& m) {
  fmt::print("{}: precision {:.4f}  recall {:.4f}  F1 {:.4f}  macro F1 {:.4f}  (threshold {:.3f})\n",
             what, m.precision, m.recall, m.f1, m.macro_f1, m.threshold);
}

void add_init(CLI::App& app) {
  auto* cmd = app.add_subcommand("init", "Create a workspace folder with an empty catalog");
  static std::string ws;
  cmd->add_option("workspace", ws, "Workspace folder to create")->required();
  cmd->callback([] {
    Workspace::init(ws);
    fmt::print("initialised workspace {}\n", ws);
  });
}

void add_ingest(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "ingest", "Load listings (CSV, JSON Lines) or labelled benchmark pairs (Ditto, DeepMatcher)");
  static std::string ws, file, format = "auto", map, encoding = "utf-8", split;
  static bool strict = false;
  cmd->add_option("workspace", ws, "Workspace folder")->required();
  cmd->add_option("file", file, "Catalog file, or a DeepMatcher folder")->required();
  cmd->add_option("--format", format, "auto, csv, jsonl, ditto, deepmatcher, pairs")
      ->capture_default_str();
  cmd->add_option("--map", map, "Column mapping, e.g. title=name,price=cost");
  cmd->add_option("--encoding", encoding, "utf-8 or latin1")->capture_default_str();
  cmd->add_option("--split", split, "Split for labelled pairs (default: from the file name)");
  cmd->add_flag("--strict", strict, "Abort on the first malformed line, writing nothing");
  cmd->callback([] {
    auto workspace = Workspace::open(ws);
    ReadOptions options;
    options.format = parse_catalog_format(format);
    if (!map.empty()) options.column_map = parse_column_map(map);
    options.encoding = encoding;
    options.split = split;
    auto s = ingest_file(workspace, file, options, strict);
    fmt::print("{}: {} records, {} new listings, {} updated, {} labelled pairs, {} malformed skipped\n",
               file, s.records, s.inserted, s.updated, s.labels, s.skipped);
  });
}

void add_train_tokenizer(CLI::App& train) {
  auto* cmd = train.add_subcommand("tokenizer", "Train the WordPiece vocabulary of the text encoder");
  static std::string ws;
  static WordPieceTrainerOptions options;
  static std::vector<std::string> corpus;
  static bool cased = false;
  cmd->add_option("workspace", ws, "Workspace folder")->required();
  cmd->add_option("--vocab-size", options.vocab_size, "Pieces in the vocabulary")->capture_default_str();
  cmd->add_option("--min-frequency", options.min_frequency, "Least count of a merged pair")
      ->capture_default_str();
  cmd->add_option("--corpus", corpus, "Extra unlabelled text: .txt (a text per line) or catalog files");
  cmd->add_flag("--cased", cased, "Keep case and accents (default: lower-case, strip accents)");
  cmd->callback([] {
    options.tokenizer.lower_case = !cased;
    options.tokenizer.strip_accents = !cased;
    auto workspace = Workspace::open(ws);
    const int size = train_tokenizer(workspace, options, {corpus.begin(), corpus.end()});
    fmt::print("vocabulary of {} pieces saved to {}\n", size, workspace.text_model_dir().string());
  });
}

std::vector<int> parse_int_list(const std::string& list, const char* flag) {
  std::vector<int> values;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    try {
      size_t used = 0;
      values.push_back(std::stoi(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      fail("{}: \"{}\" is not a comma-separated list of integers", flag, list);
    }
  }
  return values;
}

HardNegatives parse_hard_negatives(const std::string& name) {
  if (name == "none") return HardNegatives::kNone;
  if (name == "labelled") return HardNegatives::kLabelled;
  if (name == "mined") return HardNegatives::kMined;
  if (name == "both") return HardNegatives::kBoth;
  fail("--hard-negatives: unknown mode \"{}\" (none, labelled, mined, both)", name);
}

void add_train_text(CLI::App& train) {
  auto* cmd = train.add_subcommand("text", "Train the text encoder: classical (tfidf), or BERT (mlm, match)");
  static std::string ws, stage = "tfidf";
  static ClassicalTextEncoder::Options tfidf;
  static MlmOptions mlm;
  static BertConfig bert;
  static MatchOptions match;
  static std::vector<std::string> corpus;
  static bool resume = false;
  static int dim = 128;
  static std::string head_layers, hard_negatives = "both";
  static int epochs = 0, batch = 0;
  static double lr = 0;
  cmd->add_option("workspace", ws, "Workspace folder")->required();
  cmd->add_option("--stage", stage, "tfidf: TF-IDF + PCA; mlm: BERT domain pretraining; match: "
                                    "contrastive fine-tuning on labelled pairs")
      ->check(CLI::IsMember({"tfidf", "mlm", "match"}))
      ->capture_default_str();
  cmd->add_option("--dim", dim, "Output dimension (tfidf, match)")->capture_default_str();
  cmd->add_option("--fold-dim", tfidf.fold_dim, "tfidf: hashed features folded to this many dims")
      ->capture_default_str();
  cmd->add_option("--seed", tfidf.seed, "Seed")->capture_default_str();
  cmd->add_option("--epochs", epochs, "mlm/match: passes over the data (default 3 / 8)");
  cmd->add_option("--batch", batch, "mlm: texts, match: pairs per step (default 64)");
  cmd->add_option("--lr", lr, "mlm/match: peak learning rate (default 5e-4 / 1e-3)");
  cmd->add_option("--layers", bert.num_hidden_layers, "mlm, new model: encoder layers")->capture_default_str();
  cmd->add_option("--hidden", bert.hidden_size, "mlm, new model: hidden size")->capture_default_str();
  cmd->add_option("--heads", bert.num_attention_heads, "mlm, new model: attention heads")
      ->capture_default_str();
  cmd->add_option("--max-length", mlm.max_length, "mlm: tokens per text")->capture_default_str();
  cmd->add_option("--max-steps", mlm.max_steps, "mlm: stop after this many steps (0 = all epochs)");
  cmd->add_flag("--whole-word", mlm.whole_word, "mlm: mask whole words");
  cmd->add_flag("--resume", resume, "mlm: continue from the last checkpoint");
  cmd->add_option("--corpus", corpus, "mlm: extra unlabelled text (.txt lines or catalog files)");
  cmd->add_option("--head-layers", head_layers,
                  "match: hidden states the CNN head reads, e.g. -4,-3,-2,-1 (default: the last 4)");
  cmd->add_option("--channels", match.head.channels, "match: CNN channels")->capture_default_str();
  cmd->add_option("--temperature", match.temperature, "match: InfoNCE temperature")->capture_default_str();
  cmd->add_option("--hard-negatives", hard_negatives, "match: none, labelled, mined, both")
      ->capture_default_str();
  cmd->callback([] {
    auto workspace = Workspace::open(ws);
    if (stage == "tfidf") {
      tfidf.out_dim = dim;
      train_tfidf(workspace, tfidf);
    } else if (stage == "mlm") {
      if (epochs > 0) mlm.epochs = epochs;
      if (batch > 0) mlm.batch_size = batch;
      if (lr > 0) mlm.optimizer.lr = lr;
      bert.intermediate_size = 4 * bert.hidden_size;
      bert.max_position_embeddings = std::max(64, mlm.max_length);
      auto report = pretrain_text_model(workspace, mlm, bert, {corpus.begin(), corpus.end()}, resume);
      const auto& curve = report.loss_curve;
      fmt::print("MLM: {} steps, {:.0f} tokens/s, loss {:.3f} -> {:.3f}\n", report.steps,
                 report.tokens_per_second, curve.empty() ? 0.0 : curve.front().second,
                 curve.empty() ? 0.0 : curve.back().second);
    } else {
      if (epochs > 0) match.epochs = epochs;
      if (batch > 0) match.batch_size = batch;
      if (lr > 0) match.optimizer.lr = lr;
      match.head.out_dim = dim;
      if (!head_layers.empty()) match.head.layers = parse_int_list(head_layers, "--head-layers");
      match.hard_negatives = parse_hard_negatives(hard_negatives);
      auto report = finetune_text_model(workspace, match);
      fmt::print("match: valid AP {:.4f} before, per epoch", report.valid_metric_before);
      for (double m : report.valid_metric) fmt::print(" {:.4f}", m);
      fmt::print("; kept epoch {}\n", report.best_epoch);
    }
  });
}

void add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a model of the workspace");
  cmd->require_subcommand(1);

  add_train_tokenizer(*cmd);
  add_train_text(*cmd);

  auto* decider = cmd->add_subcommand("decider", "Train the decider on labelled pairs (train/valid)");
  static std::string decider_ws;
  static DeciderOptions decider_options;
  decider->add_option("workspace", decider_ws, "Workspace folder")->required();
  decider->add_option("--rounds", decider_options.rounds, "Boosting rounds (max)")->capture_default_str();
  decider->add_option("--max-depth", decider_options.max_depth, "Tree depth")->capture_default_str();
  decider->add_option("--eta", decider_options.eta, "Learning rate")->capture_default_str();
  decider->add_option("--seed", decider_options.seed, "Seed")->capture_default_str();
  decider
      ->add_option("--folds", decider_options.folds,
                   "Cross-fitting folds over train+valid (2-20); 1 = one model, threshold on valid")
      ->capture_default_str();
  decider->callback([] {
    auto workspace = Workspace::open(decider_ws);
    auto s = train_decider(workspace, decider_options);
    fmt::print("decider trained on {} pairs ({} positive); valid {} pairs ({} positive){}\n",
               s.train_pairs, s.train_positives, s.valid_pairs, s.valid_positives,
               s.valid_held_out ? " held out from train" : "");
    fmt::print("validation: {}\n", s.validation);
    print_metrics("valid", s.valid_metrics);
  });
}

void add_embed(CLI::App& app) {
  auto* cmd = app.add_subcommand("embed", "Encode every listing into its text vector");
  static std::string ws, encoder = "auto";
  cmd->add_option("workspace", ws, "Workspace folder")->required();
  cmd->add_option("--encoder", encoder,
                  "Text encoder: auto (bert when fine-tuned, else tfidf), tfidf, bert")
      ->capture_default_str();
  cmd->callback([] {
    auto workspace = Workspace::open(ws);
    fmt::print("embedded {} listings\n", embed_text(workspace, parse_text_encoder_choice(encoder)));
  });
}

void add_index(CLI::App& app) {
  auto* cmd = app.add_subcommand("index", "Build, update or check the vector index");
  static std::string ws, spec = "HNSW32";
  static bool update = false, check = false;
  cmd->add_option("workspace", ws, "Workspace folder")->required();
  cmd->add_option("--spec", spec, "Flat, HNSW32[,efSearch=128], IVF1024,Flat[,nprobe=16], "
                 "[OPQ<m>,|PCA<d>,]IVF<nlist>,SQ8|PQ<m>[,RFlat|,Refine(SQ8)|,RDisk][,k_factor=4] "
                 "(RDisk: PQ codes in RAM, exact re-ranking from a memory-mapped <index>.vectors)")
      ->capture_default_str();
  auto* update_flag = cmd->add_flag(
      "--update", update, "Apply the vector changes since the index was built, without rebuilding");
  cmd->add_flag("--check", check, "Load the index and check it matches catalog.db")
      ->excludes(update_flag);
  cmd->callback([] {
    auto workspace = Workspace::open(ws);
    const auto path = workspace.index_path("text").string();
    if (check) {
      auto index = load_workspace_index(workspace, workspace.catalog().vectors("text"));
      fmt::print("{}: ok, {} vectors ({}), current with catalog.db\n", path, index->size(),
                 index->spec());
    } else if (update) {
      auto u = update_index(workspace);
      fmt::print("{}: {} written, {} removed, {} vectors now\n", path, u.written, u.removed,
                 u.size);
    } else {
      auto index = build_index(workspace, spec);
      fmt::print("indexed {} vectors ({}) into {}\n", index->size(), index->spec(), path);
    }
  });
}

void add_dedup(CLI::App& app) {
  auto* cmd = app.add_subcommand("dedup", "Find duplicate groups in the whole catalog");
  static std::string ws, out, linkage = "average";
  static DedupOptions options;
  cmd->add_option("workspace", ws, "Workspace folder")->required();
  cmd->add_option("--out", out, "Output folder for pairs.csv and clusters.csv")->required();
  cmd->add_option("-k,--k", options.k, "Candidates per listing")->capture_default_str();
  cmd->add_option("--linkage", linkage, "average (guards against chaining) or components")
      ->check(CLI::IsMember({"average", "components"}))
      ->capture_default_str();
  cmd->add_option("--max-cluster", options.max_cluster_size, "Largest cluster allowed")
      ->capture_default_str();
  cmd->callback([] {
    auto workspace = Workspace::open(ws);
    options.out_dir = out;
    options.linkage = linkage == "average" ? Linkage::kAverage : Linkage::kConnectedComponents;
    auto s = run_dedup(workspace, options);
    fmt::print(
        "{} listings, {} candidate pairs, {} accepted (threshold {:.3f}), {} clusters covering {} "
        "listings (largest {})\nwrote {}/pairs.csv and {}/clusters.csv\n",
        s.listings, s.candidate_pairs, s.accepted_pairs, s.threshold, s.clusters,
        s.clustered_listings, s.largest_cluster, out, out);
  });
}

void add_eval(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Evaluate the decider and candidates on labelled pairs");
  static std::string ws, out;
  static EvalOptions options;
  cmd->add_option("workspace", ws, "Workspace folder")->required();
  cmd->add_option("--split", options.split, "Labelled split to evaluate")->capture_default_str();
  cmd->add_option("--out", out, "Report folder (default: WORKSPACE/reports)");
  cmd->callback([] {
    auto workspace = Workspace::open(ws);
    options.out_dir = out.empty() ? workspace.reports_dir() : std::filesystem::path(out);
    auto s = run_eval(workspace, options);
    fmt::print("{} split: {} pairs, {} positive\n", s.split, s.pairs, s.positives);
    print_metrics(s.split, s.at_threshold);
    for (auto [k, r] : s.candidate_recall) fmt::print("candidate recall@{}: {:.4f}\n", k, r);
    fmt::print("wrote {}/report.md, metrics.json, pr_curve.svg, scores.svg\n",
               options.out_dir.string());
  });
}

void add_synth(CLI::App& app) {
  auto* cmd = app.add_subcommand("synth", "Generate a synthetic catalog with known duplicates");
  static std::string out;
  static SynthOptions options;
  cmd->add_option("--out", out, "Output folder")->required();
  cmd->add_option("--products", options.products, "Distinct products")->capture_default_str();
  cmd->add_option("--seed", options.seed, "Seed")->capture_default_str();
  cmd->callback([] {
    auto catalog = synthesize_catalog(options);
    write_synth_catalog(catalog, out);
    fmt::print("{} listings of {} products, {} labelled pairs in {}\n", catalog.listings.size(),
               options.products, catalog.labels.size(), out);
  });
}

// "L4-H256" -> a BERT of 4 layers, hidden 256, hidden/64 heads (at least 2), FFN 4 x hidden.
BertConfig parse_bert_shape(const std::string& shape) {
  int layers = 0, hidden = 0;
  if (std::sscanf(shape.c_str(), "L%d-H%d", &layers, &hidden) != 2 || layers <= 0 || hidden <= 0) {
    fail("--shapes: \"{}\" is not a shape like L4-H256", shape);
  }
  BertConfig bert;
  bert.num_hidden_layers = layers;
  bert.hidden_size = hidden;
  bert.num_attention_heads = std::max(2, hidden / 64);
  bert.intermediate_size = 4 * hidden;
  bert.validate();
  return bert;
}

void add_bench_text(CLI::App& bench) {
  auto* cmd = bench.add_subcommand(
      "text", "Titles/s of the classical and BERT text encoders on a workspace's listings");
  static std::string ws;
  static std::vector<std::string> shapes;
  static int reps = 3;
  static size_t max_listings = 20000;
  cmd->add_option("workspace", ws, "Workspace folder (its listings are encoded)")->required();
  cmd->add_option("--shapes", shapes, "Also untrained BERTs of these shapes, e.g. L2-H128 L4-H256");
  cmd->add_option("--reps", reps, "Timed passes per encoder")->capture_default_str();
  cmd->add_option("--max-listings", max_listings, "Encode at most this many listings")
      ->capture_default_str();
  cmd->callback([] {
    auto workspace = Workspace::open(ws);
    auto listings = workspace.catalog().all_listings();
    if (listings.size() > max_listings) listings.resize(max_listings);
    std::vector<std::unique_ptr<Encoder>> owned;
    std::vector<NamedEncoder> encoders;
    owned.push_back(load_vector_encoder(workspace, TextEncoderChoice::kClassical));
    encoders.push_back({owned.back()->name(), owned.back().get()});
    if (NeuralTextEncoder::exists(workspace.text_model_dir())) {
      owned.push_back(load_vector_encoder(workspace, TextEncoderChoice::kNeural));
      encoders.push_back({owned.back()->name() + " (trained)", owned.back().get()});
    }
    for (const std::string& shape : shapes) {
      const BertConfig bert = parse_bert_shape(shape);
      owned.push_back(std::make_unique<NeuralTextEncoder>(NeuralTextEncoder::with_random_weights(
          workspace.text_model_dir(), bert, default_head_for(bert), {})));
      encoders.push_back({owned.back()->name() + " (random weights)", owned.back().get()});
    }
    auto rows = run_text_bench(listings, encoders, reps);
    fmt::print("{}", text_bench_markdown(rows, nn::threads()));
  });
}

void add_bench(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Benchmark doppel's components");
  cmd->require_subcommand(1);

  add_bench_text(*cmd);
  auto* index = cmd->add_subcommand(
      "index",
      "Benchmark index specs on synthetic vectors with known duplicates (or a workspace's "
      "stored vectors): recall, dup@10, memory, build time, latency, QPS");
  static SyntheticVectorOptions data_options;
  static IndexBenchOptions options;
  static std::string specs = "Flat;IVF4096,Flat,nprobe=16;HNSW32", out, ws, space = "text";
  static int threads = 0;
  index->add_option("--n", data_options.n, "Synthetic base vectors")->capture_default_str();
  index->add_option("--dim", data_options.dim, "Synthetic dimensions")->capture_default_str();
  index->add_option("--queries", data_options.queries, "Queries (perturbed copies of base rows)")
      ->capture_default_str();
  index->add_option("--specs", specs, "Index specs separated by ';' (specs contain commas)")
      ->capture_default_str();
  index->add_option("--out", out, "Output folder for results.md and results.json")->required();
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
      doppel::nn::set_threads(threads);
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
    for (const auto& why : rejected) fmt::print("skip {}\n", why);
    if (options.specs.empty()) fail("bench index: none of the specs is accepted");
    auto report = run_index_bench(data, options, description);
    write_index_bench(report, out);
    if (!options.keep_index_files) std::filesystem::remove_all(options.work_dir);
    fmt::print("{}\nwrote {}/results.md and {}/results.json\n", index_bench_markdown(report), out,
               out);
  });
}

}  // namespace
}  // namespace doppel

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
  int threads = 0;
  bool quiet = false;
  app.add_option("--threads", threads, "Worker threads (default: all cores)");
  app.add_flag("-q,--quiet", quiet, "Only warnings and errors on stderr, no progress bars");
  // Logs and progress go to stderr so that stdout carries only results.
  spdlog::set_default_logger(spdlog::stderr_color_mt("doppel"));
  app.parse_complete_callback([&] {
    if (threads > 0) {
      omp_set_num_threads(threads);
      doppel::nn::set_threads(threads);
    }
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
  doppel::add_eval(app);
  doppel::add_synth(app);
  doppel::add_bench(app);
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
