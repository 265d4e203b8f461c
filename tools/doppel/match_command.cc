// doppel match: the online service's match (POST /v1/match) from the command line, for listings
// in a file, without starting a server.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include <iostream>
#include <iterator>

#include "pipeline/image_jobs.h"
#include "server/json_api.h"
#include "server/server_state.h"
#include "tools/doppel/commands.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {

void add_match(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "match", "Match listings that need not be in the catalog (a JSON file) against it");
  static std::string ws, queries;
  static int k = 10, image_k = 10;
  cmd->add_option("workspace", ws, "Workspace folder (trained and indexed)")->required();
  cmd->add_option("listings", queries,
                  "JSON file ('-': standard input): one listing object as POST /v1/match takes "
                  "it, an array of them, or JSON Lines; a relative image path is read from the "
                  "file's folder")
      ->required();
  cmd->add_option("--k", k, "Candidates by text per listing")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--image-k", image_k,
                  "Candidates by image per listing with a photo (0: text only)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  cmd->callback([] {
    const bool from_stdin = queries == "-";
    const auto listings = parse_listing_queries(
        from_stdin ? std::string(std::istreambuf_iterator<char>(std::cin), {}) : read_file(queries),
        from_stdin ? "standard input" : queries);
    const ServerState state(ws);
    ImageFetcherOptions fetch = workspace_fetcher(state.workspace());
    fetch.base_dir = from_stdin ? std::filesystem::current_path()
                                : std::filesystem::absolute(queries).parent_path();
    const ImageFetcher images(fetch);
    const float threshold = state.threshold();
    for (size_t i = 0; i < listings.size(); ++i) {
      const Listing& query = listings[i];
      cv::Mat photo;
      try {
        if (state.uses_images() && !query.image.empty()) photo = images.load(query.image);
      } catch (const Error& e) {
        fail("{}: listing {} ('{}'): {}", queries, i + 1, query.title, e.what());
      }
      const auto candidates = state.match(query, k, image_k, photo.empty() ? nullptr : &photo);
      const nlohmann::json line = {{"query", listing_to_json(query)},
                                   {"candidates", candidates_json(candidates, true)},
                                   {"threshold", threshold},
                                   {"image_used", !photo.empty()}};
      fmt::print("{}\n", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
  });
}

}  // namespace doppel
