// text_bench — titles per second of text encoders on the same listings in one run, so the
// neural encoder is always reported beside the classical one it must beat (`doppel bench text`).
// Each encoder encodes all listings `repetitions` times (after one untimed warm-up pass over up
// to 1,000 listings); the median, min and max rate are reported. Thread count: whatever the
// process set (the CLI's --threads).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "catalog/encoder.h"
#include "catalog/listing.h"

namespace doppel {

struct TextBenchRow {
  std::string encoder;  // Encoder::name(), plus a note such as "(random weights)"
  size_t texts = 0;
  double median_per_second = 0, min_per_second = 0, max_per_second = 0;
  double vs_first = 1;  // median rate / the first encoder's median rate
};

struct NamedEncoder {
  std::string label;
  const Encoder* encoder;
};

std::vector<TextBenchRow> run_text_bench(std::span<const Listing> listings,
                                         std::span<const NamedEncoder> encoders, int repetitions);

// A markdown table of the rows with the machine's thread count in the caption.
std::string text_bench_markdown(const std::vector<TextBenchRow>& rows, int threads);

}  // namespace doppel
