#include "index/ivf_flat_search.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <omp.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <vector>

#include "index/exact_top_k.h"
#include "index/inner_products.h"
#include "index/top_k.h"
#include "util/error.h"

namespace doppel {
namespace {

// Rows of a list scored per product: bounds one thread's block of scores (queries × rows).
constexpr size_t kRowBlock = 2048;

// While alive, OpenMP regions started by this thread (here and in exact_top_k) run on it alone:
// omp_get_max_threads() is a per-thread setting.
class CallingThreadOnly {
 public:
  CallingThreadOnly() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~CallingThreadOnly() { omp_set_num_threads(saved_); }
  CallingThreadOnly(const CallingThreadOnly&) = delete;
  CallingThreadOnly& operator=(const CallingThreadOnly&) = delete;

 private:
  int saved_;
};

// The probes (query × nprobe slot) of a batch grouped by the list they probe: the probes of list l
// are probes[first[l] .. first[l + 1]), each the index q * nprobe + slot.
struct ProbesByList {
  std::vector<size_t> first;
  std::vector<size_t> probes;
};

ProbesByList group_by_list(const std::vector<faiss::Index::idx_t>& lists, size_t nlist) {
  ProbesByList out;
  out.first.assign(nlist + 1, 0);
  for (const faiss::Index::idx_t list : lists)
    if (list >= 0) ++out.first[static_cast<size_t>(list) + 1];
  for (size_t l = 0; l < nlist; ++l) out.first[l + 1] += out.first[l];
  out.probes.resize(out.first[nlist]);
  std::vector<size_t> next(out.first.begin(), out.first.end() - 1);
  for (size_t probe = 0; probe < lists.size(); ++probe)
    if (lists[probe] >= 0) out.probes[next[static_cast<size_t>(lists[probe])]++] = probe;
  return out;
}

// Each query's nprobe nearest lists, best first, into lists (n × nprobe). A flat inner-product
// quantizer's centroids are scored by exact_top_k, for any n (FAISS's flat search uses BLAS from
// 20 queries on and its scalar loop below); any other quantizer, an HNSW graph over the
// centroids, searches itself.
void probed_lists(const faiss::IndexIVFFlat& index, size_t n, const float* queries, size_t nprobe,
                  std::vector<faiss::Index::idx_t>& lists) {
  lists.resize(n * nprobe);
  std::vector<float> scores(n * nprobe);
  const auto* flat = dynamic_cast<const faiss::IndexFlat*>(index.quantizer);
  if (flat == nullptr || flat->metric_type != faiss::METRIC_INNER_PRODUCT) {
    index.quantizer->search(static_cast<faiss::Index::idx_t>(n), queries,
                            static_cast<faiss::Index::idx_t>(nprobe), scores.data(), lists.data());
    return;
  }
  exact_top_k(index.nlist, flat->get_xb(), index.d, n, queries, static_cast<int>(nprobe),
              scores.data(), lists.data());
}

}  // namespace

void search_ivf_flat(const faiss::IndexIVFFlat& index, size_t n, const float* queries, size_t k,
                     float* scores, int64_t* ids) {
  if (index.metric_type != faiss::METRIC_INNER_PRODUCT)
    fail("IVF-Flat search: the index must use the inner product");
  DOPPEL_CHECK(k > 0, "k = {}", k);
  std::optional<CallingThreadOnly> one_thread;
  if (n < kMinParallelQueries) one_thread.emplace();
  const float kNone = -std::numeric_limits<float>::infinity();
  const size_t dim = static_cast<size_t>(index.d);
  const size_t nprobe = std::min(index.nprobe, index.nlist);
  std::vector<faiss::Index::idx_t> lists;
  probed_lists(index, n, queries, nprobe, lists);
  const ProbesByList by_list = group_by_list(lists, index.nlist);

  // Each probe keeps the best k of its own list; a query's probes are merged at the end, so no
  // two threads ever write the same entry.
  std::vector<float> probe_scores(n * nprobe * k, kNone);
  std::vector<int64_t> probe_ids(n * nprobe * k, -1);
  const faiss::InvertedLists& invlists = *index.invlists;
#pragma omp parallel
  {
    std::vector<float> gathered, block;
#pragma omp for schedule(dynamic, 1)
    for (size_t l = 0; l < index.nlist; ++l) {
      const size_t m = by_list.first[l + 1] - by_list.first[l];
      const size_t rows = invlists.list_size(l);
      if (m == 0 || rows == 0) continue;
      const size_t* probes = &by_list.probes[by_list.first[l]];
      gathered.resize(m * dim);
      for (size_t i = 0; i < m; ++i)
        std::copy_n(queries + (probes[i] / nprobe) * dim, dim, &gathered[i * dim]);
      faiss::InvertedLists::ScopedCodes codes(&invlists, l);
      faiss::InvertedLists::ScopedIds list_ids(&invlists, l);
      const auto* vectors = reinterpret_cast<const float*>(codes.get());
      for (size_t r0 = 0; r0 < rows; r0 += kRowBlock) {
        const size_t rn = std::min(kRowBlock, rows - r0);
        block.resize(m * rn);
        inner_products(gathered.data(), m, vectors + r0 * dim, rn, dim, block.data(), rn);
        for (size_t i = 0; i < m; ++i) {
          float* top_scores = &probe_scores[probes[i] * k];
          int64_t* top_ids = &probe_ids[probes[i] * k];
          const float* row = &block[i * rn];
          for (size_t j = 0; j < rn; ++j)
            offer_top(top_scores, top_ids, k, row[j], list_ids.get()[r0 + j]);
        }
      }
    }

#pragma omp for schedule(static)
    for (size_t q = 0; q < n; ++q) {
      float* top_scores = scores + q * k;
      int64_t* top_ids = ids + q * k;
      std::fill_n(top_scores, k, kNone);
      std::fill_n(top_ids, k, int64_t{-1});
      for (size_t c = q * nprobe * k; c < (q + 1) * nprobe * k; ++c) {
        if (probe_ids[c] >= 0) offer_top(top_scores, top_ids, k, probe_scores[c], probe_ids[c]);
      }
    }
  }
}

}  // namespace doppel
