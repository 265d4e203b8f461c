// UTF-8 checks and conversions for ingest: catalogs arrive in mixed encodings, and doppel
// stores only valid UTF-8.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace doppel {

// Byte offset of the first invalid UTF-8 sequence, or nullopt when the text is valid.
std::optional<size_t> find_invalid_utf8(std::string_view text);

// Converts ISO-8859-1 (Latin-1) bytes to UTF-8; every byte is a valid Latin-1 character.
std::string latin1_to_utf8(std::string_view text);

}  // namespace doppel
