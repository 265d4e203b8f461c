// doppel train tokenizer|text|decider: fitting the models of a workspace.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sstream>

#include "tools/doppel/commands.h"
#include "pipeline/decider_job.h"
#include "pipeline/text_jobs.h"
#include "pipeline/text_model_jobs.h"
#include "pipeline/workspace.h"
#include "util/error.h"

namespace doppel {
namespace {

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
  cmd->add_option("--corpus", corpus, "Extra unlabelled text: catalog files (Ditto .txt too), or .txt with a text per line");
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
  static int epochs = 0, batch = 0, match_folds = 3;
  static uint64_t seed = 42;
  static double lr = 0;
  cmd->add_option("workspace", ws, "Workspace folder")->required();
  cmd->add_option("--stage", stage, "tfidf: TF-IDF + PCA; mlm: BERT domain pretraining; match: "
                                    "contrastive fine-tuning on labelled pairs")
      ->check(CLI::IsMember({"tfidf", "mlm", "match"}))
      ->capture_default_str();
  cmd->add_option("--dim", dim, "Output dimension (tfidf, match)")->capture_default_str();
  cmd->add_option("--fold-dim", tfidf.fold_dim, "tfidf: hashed features folded to this many dims")
      ->capture_default_str();
  cmd->add_option("--seed", seed, "Seed of every stage: samples, shuffles, masks, a new model's weights")
      ->capture_default_str();
  cmd->add_option("--epochs", epochs, "mlm/match: passes over the data (default 3 / at most 40)");
  cmd->add_option("--batch", batch, "mlm: texts, match: pairs per step (default 64)");
  cmd->add_option("--lr", lr, "mlm/match: peak learning rate (default 5e-4 / 3e-3)");
  cmd->add_option("--layers", bert.num_hidden_layers, "mlm, new model: encoder layers")->capture_default_str();
  cmd->add_option("--hidden", bert.hidden_size, "mlm, new model: hidden size")->capture_default_str();
  cmd->add_option("--heads", bert.num_attention_heads, "mlm, new model: attention heads")
      ->capture_default_str();
  cmd->add_option("--max-length", mlm.max_length, "mlm: tokens per text")->capture_default_str();
  cmd->add_option("--max-steps", mlm.max_steps, "mlm: stop after this many steps (0 = all epochs)");
  cmd->add_flag("--whole-word", mlm.whole_word, "mlm: mask whole words");
  cmd->add_flag("--resume", resume, "mlm: continue from the last checkpoint");
  cmd->add_option("--corpus", corpus, "mlm: extra unlabelled text (catalog files, or .txt lines)");
  cmd->add_option("--head-layers", head_layers,
                  "match: hidden states the CNN head reads, e.g. -4,-3,-2,-1 (default: the last 4)");
  cmd->add_option("--channels", match.head.channels, "match: CNN channels")->capture_default_str();
  cmd->add_option("--bottleneck", match.head.bottleneck,
                  "match: per-token width the head's layers are mapped to before the CNN (0: none)")
      ->capture_default_str();
  cmd->add_option("--patience", match.patience,
                  "match: stop after this many epochs without a better valid AP "
                  "(0: run every epoch)")
      ->capture_default_str();
  cmd->add_option("--temperature", match.temperature, "match: InfoNCE temperature")->capture_default_str();
  cmd->add_option("--hard-negatives", hard_negatives, "match: none, labelled, mined, both")
      ->capture_default_str();
  cmd->add_option("--folds", match_folds,
                  "match: also fine-tune K fold models to give the decider out-of-fold cosines "
                  "of the train pairs (1 = none: the decider then sees in-sample cosines)")
      ->capture_default_str();
  cmd->callback([] {
    auto workspace = Workspace::open(ws);
    tfidf.seed = mlm.seed = match.seed = seed;
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
      auto report = finetune_text_model(workspace, match, match_folds);
      fmt::print("match: valid AP {:.4f} before, per epoch", report.valid_metric_before);
      for (double m : report.valid_metric) fmt::print(" {:.4f}", m);
      fmt::print("; kept epoch {}\n", report.best_epoch);
    }
  });
}

}  // namespace

void add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train a model of the workspace");
  cmd->require_subcommand(1);

  add_train_tokenizer(*cmd);
  add_train_text(*cmd);
  add_train_image(*cmd);

  auto* decider = cmd->add_subcommand("decider",
                                      "Train the decider on labelled pairs (train/valid), and on "
                                      "pairs labelled by rules (--bootstrap)");
  static std::string decider_ws;
  static DeciderOptions decider_options;
  static std::string features;
  static std::string classifier = "xgboost";
  decider->add_option("workspace", decider_ws, "Workspace folder")->required();
  decider
      ->add_option("--classifier", classifier,
                   "xgboost (gradient-boosted trees) or mlp (a small neural network, libtorch)")
      ->check(CLI::IsMember({"xgboost", "mlp"}))
      ->capture_default_str();
  auto& xgb = decider_options.xgboost;
  decider->add_option("--rounds", xgb.rounds, "XGBoost: boosting rounds (max)")->capture_default_str();
  decider->add_option("--max-depth", xgb.max_depth, "XGBoost: tree depth")->capture_default_str();
  decider->add_option("--eta", xgb.eta, "XGBoost: learning rate")->capture_default_str();
  decider
      ->add_option("--parallel-trees", xgb.parallel_trees,
                   "XGBoost: trees per round, averaged (prediction cost grows with it)")
      ->capture_default_str();
  auto& mlp = decider_options.mlp;
  decider->add_option("--hidden", mlp.hidden, "MLP: hidden layer widths, e.g. 128,32")
      ->delimiter(',')
      ->capture_default_str();
  decider->add_option("--epochs", mlp.epochs, "MLP: epochs (max; early-stopped on valid)")
      ->capture_default_str();
  decider->add_option("--lr", mlp.optimizer.lr, "MLP: peak learning rate")->capture_default_str();
  decider->add_option("--dropout", mlp.dropout, "MLP: dropout after each hidden layer")
      ->capture_default_str();
  decider->add_option("--seed", decider_options.seed, "Seed")->capture_default_str();
  decider
      ->add_option("--folds", decider_options.folds,
                   "Cross-fitting folds over train+valid (2-20); 1 = one model, threshold on valid")
      ->capture_default_str();
  decider
      ->add_option("--random-negatives", decider_options.random_negatives,
                   "Random pairs of catalog listings added to the train pairs as non-matches, "
                   "per train pair (0: labelled pairs only)")
      ->capture_default_str();
  decider->add_option("--precision", decider_options.target_precision,
                      "Choose the threshold for this precision on held-out pairs (e.g. 0.98) "
                      "instead of the best F1");
  decider->add_flag("--bootstrap", decider_options.bootstrap,
                    "Also train on candidate pairs labelled by rules (same model codes or mutual "
                    "best match; disjoint codes or far below the best): a first decider for a "
                    "catalog without labels, or with few");
  static bool uncalibrated = false;
  decider->add_flag("--no-calibration", uncalibrated,
                    "Raw classifier scores instead of isotonic-calibrated probabilities");
  decider->add_option("--features", features,
                      "Feature groups: pair (classical pair features + text cosine), text (text "
                      "cosine), classical (the classical TF-IDF-PCA vectors' cosine, beside neural "
                      "text vectors), image (image cosine, presence), blocks (|a-b|, a*b of the "
                      "vectors); default pair,text (+classical when the text vectors are neural, +image "
                      "when the catalog has image vectors)");
  decider->callback([] {
    auto workspace = Workspace::open(decider_ws);
    decider_options.calibrate = !uncalibrated;
    decider_options.classifier = parse_classifier(classifier);
    std::optional<FeatureLayout> layout;
    if (!features.empty()) layout = FeatureLayout::parse(features);
    auto s = train_decider(workspace, decider_options, layout);
    fmt::print("features: {} ({} columns)\n", s.features, s.num_features);
    fmt::print("classifier: {}\n", classifier);
    if (const auto& b = s.bootstrap) {
      fmt::print(
          "bootstrap labels: {} matches ({} same codes, {} mutual best), {} non-matches ({} "
          "disjoint codes, {} far from the best)\n",
          b->matches(), b->same_codes, b->mutual_best, b->non_matches(), b->disjoint_codes,
          b->far_from_best);
    }
    fmt::print(
        "decider trained on {} pairs ({} positive) and {} random catalog pairs as "
        "non-matches; valid {} pairs ({} positive){}\n",
        s.train_pairs, s.train_positives, s.random_negatives, s.valid_pairs, s.valid_positives,
        s.valid_held_out ? " held out from train" : "");
    if (s.out_of_fold_text_cosines > 0) {
      fmt::print("out-of-fold text cosines: {} train pairs\n", s.out_of_fold_text_cosines);
    }
    fmt::print("validation: {}\n", s.validation);
    print_metrics("valid", s.valid_metrics);
  });
}

}  // namespace doppel
