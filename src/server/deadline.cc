#include "server/deadline.h"

#include <fmt/format.h>

namespace doppel {

DeadlineExceeded::DeadlineExceeded(double budget_ms, double elapsed_ms, std::string stage)
    : Error(fmt::format("deadline exceeded: the {:.0f} ms budget was spent after {:.1f} ms, "
                        "before {}",
                        budget_ms, elapsed_ms, stage)),
      budget_ms_(budget_ms),
      elapsed_ms_(elapsed_ms),
      stage_(std::move(stage)) {}

}  // namespace doppel
