// The review page served at GET /review: plain HTML, CSS and JS in one file
// (src/server/review_page.html), compiled into the binary so an installed doppel needs no
// source tree. It pulls pairs from GET /v1/review/queue and posts verdicts to POST /v1/labels.
#pragma once

#include <string_view>

namespace doppel {

std::string_view review_page_html();

}  // namespace doppel
