// doppel init, ingest and synth (synthetic, grocery, shopee): creating a workspace and filling
// its catalog.
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "catalog/listing.h"
#include "image/grocery.h"
#include "pipeline/ingest_job.h"
#include "pipeline/workspace.h"
#include "synth/catalog_synth.h"
#include "synth/grocery_catalog.h"
#include "synth/shopee_benchmark.h"
#include "tools/doppel/commands.h"

namespace doppel {

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
  cmd->add_option(
      "--split", split,
      "Split for labelled pairs, any name (default: from the file name or its split column); "
      "the decider reads train and valid, `eval --split NAME` any of them");
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
    if (s.labels > 0 && !split.empty() && !is_standard_split(split)) {
      spdlog::warn(
          "labelled pairs stored in split '{}': `train decider` reads only train and valid; "
          "`eval --split {}` evaluates them",
          split, split);
    }
  });
}

namespace {

// `synth grocery`: the multimodal benchmark from the grocery photos.
void add_synth_grocery(CLI::App& synth) {
  auto* cmd = synth.add_subcommand(
      "grocery", "Labelled multimodal catalog from the grocery photos (docs/multimodal_benchmark.md)");
  static std::string data, out;
  static GroceryCatalogOptions options;
  cmd->add_option("--data", data, "The grocerystore-packages folder")->required();
  cmd->add_option("--out", out, "Output folder")->required();
  cmd->add_option("--seed", options.seed, "Seed")->capture_default_str();
  cmd->add_flag("--iconic", options.iconic_listings,
                "Add each product's studio image as a catalogue listing (in no labelled pair)");
  cmd->callback([] {
    const auto catalog = make_grocery_catalog(load_grocery(data), options);
    write_synth_catalog(catalog, out);
    fmt::print("{} listings with photos, {} labelled pairs in {}\n", catalog.listings.size(),
               catalog.labels.size(), out);
  });
}

// `synth shopee`: labelled pairs and per-split ground truth for the Shopee subset.
void add_synth_shopee(CLI::App& synth) {
  auto* cmd = synth.add_subcommand(
      "shopee", "Labelled pairs and per-split truth clusters from Shopee's train.csv (label_group)");
  static std::string data, out;
  static ShopeeBenchmarkOptions options;
  cmd->add_option("--data", data, "train.csv or train_subset.csv")->required();
  cmd->add_option("--out", out, "Output folder")->required();
  cmd->add_option("--seed", options.seed, "Seed of the group split")->capture_default_str();
  cmd->callback([] {
    const auto benchmark = make_shopee_benchmark(data, options);
    write_shopee_benchmark(benchmark, out);
    fmt::print("{} listings, {} labelled pairs in {}\n", benchmark.catalog.listings.size(),
               benchmark.catalog.labels.size(), out);
  });
}

}  // namespace

void add_synth(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "synth", "Generate a synthetic catalog with known duplicates (or: synth grocery, synth shopee)");
  cmd->require_subcommand(0, 1);
  static std::string out;
  static SynthOptions options;
  static bool images = false;
  static SynthImageOptions image_options;
  cmd->add_option("--out", out, "Output folder (required without a subcommand)");
  cmd->add_option("--products", options.products, "Distinct products")->capture_default_str();
  cmd->add_option("--seed", options.seed, "Seed")->capture_default_str();
  cmd->add_flag("--images", images, "Also render a seller photo per listing into OUT/images/");
  cmd->add_option("--image-size", image_options.side, "Side of the square images in pixels")
      ->check(CLI::Range(64, 1024))
      ->capture_default_str();
  add_synth_grocery(*cmd);
  add_synth_shopee(*cmd);
  cmd->callback([cmd] {
    if (!cmd->get_subcommands().empty()) return;  // the subcommand did the work
    if (out.empty()) throw CLI::RequiredError("--out");
    auto catalog = synthesize_catalog(options);
    if (images) {
      image_options.seed = options.seed;
      write_synth_images(catalog, out, image_options);
    }
    write_synth_catalog(catalog, out);
    fmt::print("{} listings of {} products, {} labelled pairs{} in {}\n", catalog.listings.size(),
               options.products, catalog.labels.size(), images ? ", images" : "", out);
  });
}

}  // namespace doppel
