#include "pipeline/index_job.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "util/error.h"
#include "util/progress.h"

namespace doppel {

std::unique_ptr<VectorIndex> build_index(Workspace& ws, const std::string& spec,
                                         const std::string& space) {
  auto vectors = ws.catalog().vectors(space);
  if (vectors.keys.empty())
    fail("{}: no '{}' vectors stored; run `doppel embed {}` first", ws.root().string(), space,
         ws.root().string());
  auto index = make_index(spec, vectors.dim);
  const size_t n = vectors.keys.size();
  if (!index->is_trained()) {
    constexpr size_t kMaxTrain = 200000;
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937_64(42));
    order.resize(std::min(n, kMaxTrain));
    std::vector<float> sample(order.size() * vectors.dim);
    for (size_t i = 0; i < order.size(); ++i)
      std::copy_n(vectors.data.data() + order[i] * vectors.dim, vectors.dim,
                  sample.data() + i * vectors.dim);
    spdlog::info("training {} on {} vectors", spec, order.size());
    index->train(order.size(), sample.data());
  }
  constexpr size_t kBatch = 10000;
  Progress progress("index " + space, n);
  for (size_t start = 0; start < n; start += kBatch) {
    size_t m = std::min(kBatch, n - start);
    index->add(m, vectors.data.data() + start * vectors.dim, vectors.keys.data() + start);
    progress.advance(m);
  }
  progress.finish();
  index->save(ws.index_path(space));
  return index;
}

std::unique_ptr<VectorIndex> load_workspace_index(const Workspace& ws,
                                                  const CatalogStore::VectorSet& stored,
                                                  const std::string& space) {
  auto path = ws.index_path(space);
  if (!std::filesystem::exists(path))
    fail("{}: no index; run `doppel index {}` first", path.string(), ws.root().string());
  auto index = load_index(path);
  if (index->size() != stored.keys.size() || index->dim() != stored.dim)
    fail("{}: index holds {} vectors of dim {} but catalog.db has {} of dim {}; rebuild it with "
         "`doppel index {}`",
         path.string(), index->size(), index->dim(), stored.keys.size(), stored.dim,
         ws.root().string());
  return index;
}

}  // namespace doppel
