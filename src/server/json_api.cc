#include "server/json_api.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "server/http_error.h"

namespace doppel {
namespace {

using nlohmann::json;

constexpr std::string_view kStringFields[] = {"title",    "description",  "brand",
                                              "category", "model_number", "image"};

std::string string_field(const json& body, std::string_view name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return {};
  if (!it->is_string())
    fail_http(400, "field '{}' must be a string, got {}", name, it->type_name());
  return it->get<std::string>();
}

// NaN (a similarity never measured) becomes null.
json number_or_null(float value) { return std::isnan(value) ? json(nullptr) : json(value); }

json sources_json(unsigned sources) {
  json out = json::array();
  if (sources & kFoundByText) out.push_back("text");
  if (sources & kFoundByImage) out.push_back("image");
  if (sources & kFoundByCode) out.push_back("code");
  return out;
}

}  // namespace

void validate_listing_id(std::string_view id) {
  if (id.empty() || id.size() > 256)
    fail_http(400, "listing id must have 1 to 256 bytes, got {}", id.size());
  if (id == "." || id == "..") fail_http(400, "listing id '{}' is not allowed", id);
  for (unsigned char c : id)
    if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
      fail_http(400, "listing id contains a forbidden character (control, '/' or '\\')");
}

json parse_object(std::string_view body) {
  json parsed;
  try {
    parsed = json::parse(body);
  } catch (const json::parse_error& e) {
    fail_http(400, "body is not valid JSON: {}", e.what());
  }
  if (!parsed.is_object()) fail_http(400, "body must be a JSON object, got {}", parsed.type_name());
  return parsed;
}

Listing listing_from_json(const json& body, std::initializer_list<std::string_view> extra_fields) {
  for (const auto& [name, value] : body.items()) {
    const bool known = name == "price" ||
                       std::ranges::find(kStringFields, name) != std::end(kStringFields) ||
                       std::ranges::find(extra_fields, name) != extra_fields.end();
    if (!known) fail_http(400, "unknown field '{}'", name.substr(0, 64));
  }
  Listing listing;
  listing.title = string_field(body, "title");
  if (listing.title.empty()) fail_http(400, "field 'title' is required and must not be empty");
  listing.description = string_field(body, "description");
  listing.brand = string_field(body, "brand");
  listing.category = string_field(body, "category");
  listing.model_number = string_field(body, "model_number");
  listing.image = string_field(body, "image");
  if (auto it = body.find("price"); it != body.end() && !it->is_null()) {
    if (!it->is_number()) fail_http(400, "field 'price' must be a number, got {}", it->type_name());
    listing.price = it->get<double>();
  }
  return listing;
}

json listing_to_json(const Listing& listing) {
  json out = {{"id", listing.id},
              {"title", listing.title},
              {"description", listing.description},
              {"brand", listing.brand},
              {"category", listing.category},
              {"model_number", listing.model_number},
              {"image", listing.image}};
  out["price"] = listing.price ? json(*listing.price) : json(nullptr);
  return out;
}

std::vector<Listing> parse_listing_queries(std::string_view text, std::string_view source) {
  std::vector<Listing> out;
  // `where` names the value in errors: "line 3" or "element 2".
  const auto add = [&](const json& value, const std::string& where) {
    try {
      if (!value.is_object()) fail("a listing must be a JSON object, got {}", value.type_name());
      Listing listing = listing_from_json(value, {"id"});
      if (const auto id = value.find("id"); id != value.end()) {
        if (!id->is_string()) fail("field 'id' must be a string, got {}", id->type_name());
        listing.id = id->get<std::string>();
      }
      out.push_back(std::move(listing));
    } catch (const Error& e) {
      fail("{}: {}: {}", source, where, e.what());
    }
  };
  json whole = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (whole.is_array()) {
    for (size_t i = 0; i < whole.size(); ++i) add(whole[i], fmt::format("element {}", i + 1));
  } else if (whole.is_object()) {
    add(whole, "line 1");
  } else {  // JSON Lines
    std::istringstream lines{std::string(text)};
    size_t number = 0;
    for (std::string line; std::getline(lines, line);) {
      ++number;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      json value;
      try {
        value = json::parse(line);
      } catch (const json::parse_error& e) {
        fail("{}: line {}: not valid JSON: {}", source, number, e.what());
      }
      add(value, fmt::format("line {}", number));
    }
  }
  if (out.empty()) fail("{}: no listings in the file", source);
  return out;
}

json candidates_json(const std::vector<MatchCandidate>& candidates, bool with_sources) {
  json out = json::array();
  for (const auto& c : candidates) {
    json candidate = {{"id", c.listing.id},
                      {"title", c.listing.title},
                      {"image", c.listing.image},
                      {"similarity", number_or_null(c.similarity)},
                      {"image_similarity", number_or_null(c.image_similarity)},
                      {"confidence", c.confidence},
                      {"match", c.match}};
    if (with_sources) candidate["sources"] = sources_json(c.sources);
    out.push_back(std::move(candidate));
  }
  return out;
}

int int_field(const json& body, std::string_view name, int fallback, int min, int max) {
  auto it = body.find(name);
  if (it == body.end()) return fallback;
  if (!it->is_number_integer())
    fail_http(400, "field '{}' must be an integer, got {}", name, it->type_name());
  const auto value = it->get<int64_t>();
  if (value < min || value > max)
    fail_http(400, "field '{}' must be in [{}, {}], got {}", name, min, max, value);
  return static_cast<int>(value);
}

}  // namespace doppel
