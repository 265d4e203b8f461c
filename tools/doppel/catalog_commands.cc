// doppel init, ingest and synth: creating a workspace and filling its catalog.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "tools/doppel/commands.h"
#include "pipeline/ingest_job.h"
#include "pipeline/workspace.h"
#include "synth/catalog_synth.h"

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

}  // namespace doppel
