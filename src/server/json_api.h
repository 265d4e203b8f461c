// The JSON shapes of the HTTP API (docs/server.md): reading listings and verdicts from request
// bodies with errors that name the field, and writing listings back. Everything a client can get
// wrong is an HttpError with a 4xx status; nothing here touches the catalog.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "catalog/listing.h"
#include "server/online_match.h"

namespace doppel {

// A listing id as it may appear in a URL: 1..256 bytes, no control characters, no '/' or '\',
// not "." or "..". HttpError 400 naming what is wrong.
void validate_listing_id(std::string_view id);

// Parses a request body that must be a JSON object; 400 with the parser's position otherwise.
nlohmann::json parse_object(std::string_view body);

// The listing fields of `body` (title required; description, brand, category, model_number,
// image strings; price a number or null). Fields in `extra_fields` are skipped; any other
// unknown field is a 400 (a typo should not be silently ignored).
Listing listing_from_json(const nlohmann::json& body,
                          std::initializer_list<std::string_view> extra_fields = {});

nlohmann::json listing_to_json(const Listing& listing);

// The listings of a query file for `doppel match`, in the shape of POST /v1/match's body (an
// optional "id" as well): one JSON object, a JSON array of them, or JSON Lines (one per line).
// Error naming `source` (the file) and the line (or the array element) of a malformed one.
std::vector<Listing> parse_listing_queries(std::string_view text, std::string_view source);

// Match candidates as the API returns them: id, title, image, similarity and image_similarity
// (null when not measured), confidence, match, and with `with_sources` the indexes that found
// each one (["text", "image", "model_number"]).
nlohmann::json candidates_json(const std::vector<MatchCandidate>& candidates,
                               bool with_sources = false);

// body[name] as an integer in [min, max], or `fallback` when absent; 400 otherwise.
int int_field(const nlohmann::json& body, std::string_view name, int fallback, int min, int max);

}  // namespace doppel
