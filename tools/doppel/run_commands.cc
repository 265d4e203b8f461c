// doppel embed, index, dedup, merge, eval, eval-compare and eval-clusters: the batch steps over a
// trained workspace and their evaluation.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cmath>

#include "eval/cluster_files.h"
#include "eval/eval_runs.h"
#include "pipeline/dedup_job.h"
#include "pipeline/embed_shards.h"
#include "pipeline/eval_job.h"
#include "pipeline/image_jobs.h"
#include "pipeline/index_job.h"
#include "pipeline/index_shards.h"
#include "pipeline/text_jobs.h"
#include "pipeline/workspace.h"
#include "tools/doppel/commands.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {

void print_metrics(const std::string& what, const BinaryMetrics& m) {
  fmt::print("{}: precision {:.4f}  recall {:.4f}  F1 {:.4f}  macro F1 {:.4f}  (threshold {:.3f})\n",
             what, m.precision, m.recall, m.f1, m.macro_f1, m.threshold);
}

// --shard i/N with --out DIR: the options of embed and dedup that make them one shard of a fanned
// out batch (pipeline/shards.h).
void add_shard_option(CLI::App& cmd, std::string& shard) {
  cmd.add_option("--shard", shard,
                 "Do only shard i of N (i/N, listings split by a hash of their id) and write it to "
                 "--out, for `doppel merge`");
}

void add_embed(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "embed", "Encode the listings whose text, photo or encoder changed into their text vector "
               "and, when an image encoder is trained, their image vector");
  static std::string ws, encoder = "auto", space = "all", shard, out;
  cmd->add_option("workspace", ws, "Workspace folder")->required();
  cmd->add_option("--encoder", encoder,
                  "Text encoder: auto (bert when fine-tuned, else tfidf), tfidf, bert")
      ->capture_default_str();
  cmd->add_option("--space", space,
                  "text, image, or all (text, then image when ws/models/image holds a model)")
      ->check(CLI::IsMember({"text", "image", "all"}))
      ->capture_default_str();
  static bool all = false;
  cmd->add_flag("--all", all,
                "Encode every listing; by default only those whose text, photo or encoder "
                "changed since their vector was stored");
  add_shard_option(*cmd, shard);
  cmd->add_option("--out", out, "With --shard: the folder that receives the shard's vectors");
  cmd->callback([] {
    auto workspace = Workspace::open(ws);
    const bool text = space != "image";
    const bool image = space == "image" ||
                       (space == "all" && NeuralImageEncoder::exists(workspace.image_model_dir()));
    const auto choice = parse_text_encoder_choice(encoder);
    const auto scope = all ? EmbedScope::kAll : EmbedScope::kStale;
    if (!shard.empty()) {
      if (out.empty()) fail("embed --shard needs --out DIR for the shard's vectors");
      const auto s = embed_shard(workspace, Shard::parse(shard), out, text, image, choice, scope);
      fmt::print("shard {}: {} listings, {} text vectors, {} image vectors; wrote {}\n", shard,
                 s.listings, s.text_vectors, s.images.embedded, out);
      return;
    }
    if (!out.empty()) fail("embed stores vectors in the workspace; --out goes with --shard");
    if (text) {
      const auto r = embed_text(workspace, choice, scope);
      fmt::print("text: {} encoded, {} up to date\n", r.encoded, r.listings - r.encoded);
    }
    if (image) {
      const auto r = embed_images(workspace, scope);
      fmt::print("image: {} encoded, {} up to date, {} without an image, {} unreadable\n",
                 r.embedded, r.up_to_date, r.without_image, r.unreadable);
    }
  });
}

void add_index(CLI::App& app) {
  auto* cmd = app.add_subcommand("index", "Build, update or check the vector index");
  static std::string ws, spec = "HNSW32", space = "text", search_params;
  static bool update = false, check = false;
  cmd->add_option("workspace", ws, "Workspace folder")->required();
  cmd->add_option("--space", space, "Vector space to index: text or image")
      ->check(CLI::IsMember({"text", "image"}))
      ->capture_default_str();
  cmd->add_option("--spec", spec, "Flat, HNSW32[,efSearch=128], IVF1024,Flat[,nprobe=16], "
                 "[OPQ<m>,|PCA<d>,]IVF<nlist>[_HNSW<M>],SQ8|PQ<m>[,RFlat|,Refine(SQ8)|,RDisk]"
                 "[,k_factor=4] (RDisk: PQ codes in RAM, exact re-ranking from a memory-mapped "
                 "<index>.vectors; _HNSW<M>: a graph finds the lists, for large nlist)")
      ->capture_default_str();
  auto* update_flag = cmd->add_flag(
      "--update", update, "Apply the vector changes since the index was built, without rebuilding");
  auto* params_option = cmd->add_option(
      "--search-params", search_params,
      "Change the saved index's search-time parameters without rebuilding, e.g. "
      "nprobe=128,k_factor=32 (IVF) or efSearch=256 (HNSW); also applies the vector changes "
      "like --update");
  auto* check_flag =
      cmd->add_flag("--check", check, "Load the index and check it matches catalog.db")
          ->excludes(update_flag)
          ->excludes(params_option);
  static bool train_only = false;
  static std::string shard, out;
  cmd->add_flag("--train-only", train_only,
                "Train the index of --spec and save it empty as <space>.index.trained, for "
                "`--shard` runs on other machines (IVF specs without RFlat or Refine(SQ8))")
      ->excludes(update_flag)
      ->excludes(params_option)
      ->excludes(check_flag);
  add_shard_option(*cmd, shard);
  cmd->add_option("--out", out, "With --shard: the folder that receives the shard's index");
  cmd->callback([cmd] {
    auto workspace = Workspace::open(ws);
    const auto path = workspace.index_path(space).string();
    if (!shard.empty()) {
      if (out.empty()) fail("index --shard needs --out DIR for the shard's index");
      if (cmd->count("--spec") > 0 || train_only || update || check || !search_params.empty()) {
        fail(
            "index --shard fills the trained index (its spec is the one --train-only trained); "
            "it takes only --space and --out");
      }
      const auto s = index_shard(workspace, Shard::parse(shard), out, space);
      fmt::print("shard {}: {} listings, {} vectors indexed ({}); wrote {}\n", shard, s.listings,
                 s.vectors, s.spec, out);
      return;
    }
    if (!out.empty()) fail("index writes ws/index/; --out goes with --shard");
    if (train_only) {
      train_index_for_shards(workspace, spec, space);
      fmt::print("trained {} for {}; wrote {}\n", spec, space,
                 trained_index_path(workspace, space).string());
      return;
    }
    if (check) {
      auto index = load_workspace_index(workspace, space);
      fmt::print("{}: ok, {} vectors ({}), current with catalog.db\n", path, index->size(),
                 index->spec());
    } else if (update || !search_params.empty()) {
      auto u = update_index(workspace, space, search_params);
      fmt::print("{}: {} written, {} removed, {} vectors now\n", path, u.written, u.removed,
                 u.size);
      if (!search_params.empty()) fmt::print("{}: spec now {}\n", path, u.spec);
    } else {
      auto index = build_index(workspace, spec, space);
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
  cmd->add_option("-k,--k", options.k, "Candidates per listing by text vector")
      ->capture_default_str();
  cmd->add_option("--image-k", options.image_k,
                  "Candidates per listing by image vector (with an image index; 0 = none)")
      ->capture_default_str();
  static bool no_exact_keys = false;
  cmd->add_flag("--no-exact-keys", no_exact_keys,
                "Do not add listings that share a code (model number or title code) as candidates");
  cmd->add_option("--linkage", linkage, "average (guards against chaining) or components")
      ->check(CLI::IsMember({"average", "components"}))
      ->capture_default_str();
  cmd->add_option("--max-cluster", options.max_cluster_size, "Largest cluster allowed")
      ->capture_default_str();
  static std::string shard;
  add_shard_option(*cmd, shard);
  cmd->callback([] {
    auto workspace = Workspace::open(ws);
    options.out_dir = out;
    options.linkage = linkage == "average" ? Linkage::kAverage : Linkage::kConnectedComponents;
    options.exact_keys = !no_exact_keys;
    if (!shard.empty()) options.shard = Shard::parse(shard);
    auto s = run_dedup(workspace, options);
    fmt::print("candidates: {} by text, {} by image, {} by shared code\n", s.text_candidates,
               s.image_candidates, s.exact_key_candidates);
    if (!options.shard.whole()) {
      fmt::print("shard {}: {} listings, {} scored candidate pairs; wrote {}\n", shard,
                 s.listings, s.candidate_pairs, out);
      return;
    }
    fmt::print(
        "{} listings, {} candidate pairs, {} accepted (threshold {:.3f}), {} clusters covering {} "
        "listings (largest {})\nwrote {}/pairs.csv and {}/clusters.csv\n",
        s.listings, s.candidate_pairs, s.accepted_pairs, s.threshold, s.clusters,
        s.clustered_listings, s.largest_cluster, out, out);
  });
}

void add_merge(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "merge",
      "Fold a complete set of shard folders (embed, index or dedup --shard i/N) into the "
      "workspace: vectors into catalog.db, indexes into ws/index/, or scored pairs into "
      "pairs.csv + clusters.csv");
  static std::string ws, out, linkage = "average";
  static std::vector<std::string> shards;
  static DedupOptions options;
  cmd->add_option("workspace", ws, "Workspace folder (the one the shards were made from)")
      ->required();
  cmd->add_option("shards", shards, "Shard folders, one per shard")->required();
  cmd->add_option("--out", out, "Dedup shards: output folder for pairs.csv and clusters.csv");
  cmd->add_option("--linkage", linkage, "Dedup shards: average or components")
      ->check(CLI::IsMember({"average", "components"}))
      ->capture_default_str();
  cmd->add_option("--max-cluster", options.max_cluster_size, "Dedup shards: largest cluster")
      ->capture_default_str();
  cmd->callback([] {
    auto workspace = Workspace::open(ws);
    const std::vector<std::filesystem::path> dirs(shards.begin(), shards.end());
    const std::string job = read_shard_manifest(dirs.front()).job;
    if (job == "index") {
      if (!out.empty()) fail("merge: index shards go into the workspace; drop --out");
      const auto s = merge_index_shards(workspace, dirs);
      fmt::print("merged {} index shards: {} {} vectors ({}) into {}\n", dirs.size(), s.vectors,
                 s.space, s.spec, workspace.index_path(s.space).string());
      return;
    }
    if (job == "embed") {
      if (!out.empty()) fail("merge: embed shards go into the workspace; drop --out");
      const auto s = merge_embed_shards(workspace, dirs);
      fmt::print("merged {} embed shards: {} text vectors, {} image vectors, {} without image\n",
                 s.shards, s.text_vectors, s.image_vectors, s.image_removed);
      return;
    }
    if (out.empty()) fail("merge: dedup shards need --out DIR for pairs.csv and clusters.csv");
    options.out_dir = out;
    options.linkage = linkage == "average" ? Linkage::kAverage : Linkage::kConnectedComponents;
    const auto s = merge_dedup_shards(workspace, dirs, options);
    fmt::print(
        "merged {} dedup shards: {} listings, {} candidate pairs, {} accepted (threshold {:.3f}), "
        "{} clusters covering {} listings (largest {})\nwrote {}/pairs.csv and {}/clusters.csv\n",
        dirs.size(), s.listings, s.candidate_pairs, s.accepted_pairs, s.threshold, s.clusters,
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
    fmt::print("random catalog pairs accepted as matches: {} of {}\n", s.random_pairs_accepted,
               s.random_pairs);
    for (const auto& r : s.candidate_recall) {
      fmt::print("candidate recall@{}: text {:.4f}, image {}, shared code {:.4f}, union {:.4f}\n",
                 r.k, r.text, std::isnan(r.image) ? "-" : fmt::format("{:.4f}", r.image), r.exact,
                 r.any);
    }
    fmt::print("wrote {}/report.md, metrics.json, pr_curve.svg, scores.svg\n",
               options.out_dir.string());
  });
}

void add_eval_compare(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "eval-compare",
      "Is one decider better than another on the same labelled pairs? Positive-class F1 of two "
      "sets of `doppel eval` folders and a paired bootstrap of the difference");
  static std::vector<std::string> baseline, candidate;
  static std::string json_out;
  static PairedBootstrapOptions options;
  cmd->add_option("--baseline", baseline,
                  "eval --out folders of the setting compared against (several: e.g. one per "
                  "decider seed; its F1 is their mean)")
      ->required();
  cmd->add_option("--candidate", candidate, "eval --out folders of the setting under test")
      ->required();
  cmd->add_option("--resamples", options.resamples, "Draws of the pairs, with replacement")
      ->capture_default_str();
  cmd->add_option("--level", options.level, "Coverage of the interval for the difference")
      ->capture_default_str();
  cmd->add_option("--seed", options.seed, "Seed of the draws")->capture_default_str();
  cmd->add_option("--json", json_out, "Also write the figures to this JSON file");
  cmd->callback([] {
    const std::vector<std::filesystem::path> baseline_dirs(baseline.begin(), baseline.end()),
        candidate_dirs(candidate.begin(), candidate.end());
    const EvalComparison comparison = compare_eval_runs(baseline_dirs, candidate_dirs, options);
    fmt::print("{}", eval_comparison_text(comparison));
    if (!json_out.empty())
      write_file_atomic(json_out, eval_comparison_json(comparison).dump(2) + "\n");
  });
}

void add_eval_clusters(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "eval-clusters",
      "Score clusterings (id,cluster_id files such as dedup's clusters.csv) against true clusters: "
      "pairwise precision/recall/F1 and Shopee's per-item F1, beside every-item-alone");
  static std::string truth;
  static std::vector<std::string> predicted;
  cmd->add_option("truth", truth, "True clusters (id,cluster_id); its ids are the items scored")
      ->required();
  cmd->add_option("predicted", predicted,
                  "Predicted clusters, one or more files; each must list every id of TRUTH and may "
                  "list more (those count against precision only)")
      ->required();
  cmd->callback([] {
    std::vector<ClusterScores> rows;
    for (const auto& file : predicted) rows.push_back(score_cluster_file(truth, file));
    rows.push_back(score_singletons(truth));
    fmt::print("{}: {} items, {} of them in true groups of 2+\n{}", truth, rows.back().items,
               rows.back().duplicate_items, cluster_scores_markdown(rows));
  });
}

}  // namespace doppel
