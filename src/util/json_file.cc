#include "util/json_file.h"

#include "util/files.h"

namespace doppel {

nlohmann::json read_json_object(const std::filesystem::path& path) {
  nlohmann::json object;
  try {
    object = nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::parse_error& e) {
    fail("{}: not valid JSON: {}", path.string(), e.what());
  }
  if (!object.is_object()) fail("{}: expected a JSON object", path.string());
  return object;
}

int JsonFields::expect_format_version(int oldest, int newest) const {
  int version = 0;
  read("format_version", true, version);
  if (version < oldest || version > newest) {
    fail("{}: format_version {} is not supported (this doppel reads {})", file_.string(), version,
         oldest == newest ? std::to_string(newest) : fmt::format("{} to {}", oldest, newest));
  }
  return version;
}

}  // namespace doppel
