#include "bench/text_bench.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "util/error.h"

namespace doppel {

std::vector<TextBenchRow> run_text_bench(std::span<const Listing> listings,
                                         std::span<const NamedEncoder> encoders, int repetitions) {
  if (listings.empty()) fail("bench text: no listings to encode");
  if (repetitions <= 0) fail("bench text: repetitions must be positive, got {}", repetitions);
  std::vector<TextBenchRow> rows;
  for (const NamedEncoder& named : encoders) {
    const Encoder& encoder = *named.encoder;
    std::vector<float> out(listings.size() * static_cast<size_t>(encoder.dim()));
    encoder.encode(listings.first(std::min<size_t>(listings.size(), 1000)), out.data());
    std::vector<double> rates;
    for (int r = 0; r < repetitions; ++r) {
      const auto start = std::chrono::steady_clock::now();
      encoder.encode(listings, out.data());
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      rates.push_back(static_cast<double>(listings.size()) / seconds);
    }
    std::sort(rates.begin(), rates.end());
    TextBenchRow row{named.label, listings.size(), rates[rates.size() / 2], rates.front(), rates.back()};
    row.vs_first = rows.empty() ? 1.0 : row.median_per_second / rows.front().median_per_second;
    rows.push_back(row);
  }
  return rows;
}

std::string text_bench_markdown(const std::vector<TextBenchRow>& rows, int threads) {
  std::string md = fmt::format(
      "Titles per second, {} thread(s), median (min–max) of the repetitions; ratio against the "
      "first row.\n\n| encoder | titles | titles/s | × first |\n|---|---:|---:|---:|\n",
      threads);
  for (const TextBenchRow& r : rows) {
    md += fmt::format("| {} | {} | **{:.0f}** ({:.0f}–{:.0f}) | {:.2f}× |\n", r.encoder, r.texts,
                      r.median_per_second, r.min_per_second, r.max_per_second, r.vs_first);
  }
  return md;
}

}  // namespace doppel
