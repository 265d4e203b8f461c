// Writing RFC 4180 CSV: quote a field only when it needs it.
#pragma once

#include <string>
#include <string_view>

namespace doppel {

// The field as it must appear in a CSV record: quoted (with doubled quotes) when it contains a
// comma, quote or line break, unchanged otherwise.
std::string csv_field(std::string_view value);

}  // namespace doppel
