// Reading JSON model and config files (config.json, encoder.json, ...) with errors that name the
// file and the field, shared by every model folder reader.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>

#include "util/error.h"

namespace doppel {

// Parses `path` as a JSON object; Error naming the file when it cannot be read, is not JSON or is
// not an object.
nlohmann::json read_json_object(const std::filesystem::path& path);

// Typed access to the fields of a JSON object read from `file`.
class JsonFields {
 public:
  JsonFields(const nlohmann::json& object, std::filesystem::path file)
      : object_(object), file_(std::move(file)) {}

  // Sets value from the field; a missing (or null) field is an Error when required and leaves
  // value as it is otherwise; a value of the wrong type is an Error naming file, field and value.
  template <typename T>
  void read(const char* field, bool required, T& value) const {
    auto it = object_.find(field);
    if (it == object_.end() || it->is_null()) {
      if (required) fail("{}: missing field \"{}\"", file_.string(), field);
      return;
    }
    try {
      value = it->get<T>();
    } catch (const nlohmann::json::exception&) {
      fail("{}: field \"{}\" has the wrong type ({})", file_.string(), field, it->dump());
    }
  }

  // Error naming the file unless its "format_version" is `supported`.
  void expect_format_version(int supported) const { expect_format_version(supported, supported); }
  // Error naming the file unless its "format_version" lies in [oldest, newest]; returns it.
  int expect_format_version(int oldest, int newest) const;

  const nlohmann::json& object() const { return object_; }
  const std::filesystem::path& file() const { return file_; }

 private:
  const nlohmann::json& object_;
  std::filesystem::path file_;
};

}  // namespace doppel
