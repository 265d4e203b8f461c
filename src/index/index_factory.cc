// make_index / load_index: dispatch between the FAISS and Milvus implementations.
#include <fstream>

#include "index/index_backends.h"
#include "index/milvus_index.h"
#include "index/vector_index.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {

std::unique_ptr<VectorIndex> make_index(std::string_view spec, int dim) {
  if (is_milvus_spec(spec)) {
    if (dim <= 0) fail("index {}: dimension must be positive, got {}", spec, dim);
    return std::make_unique<MilvusIndex>(MilvusSpec::parse(spec), dim);
  }
  return make_faiss_index(spec, dim);
}

bool is_mergeable_spec(std::string_view spec) {
  return !is_milvus_spec(spec) && faiss_spec_merges(spec);
}

std::unique_ptr<VectorIndex> load_index(const std::filesystem::path& path) {
  // A FAISS index file starts with the magic "DPLINDEX"; a Milvus one is a small JSON object.
  char first = 0;
  {
    std::ifstream in(path, std::ios::binary);
    if (in) in.get(first);  // when unreadable, the FAISS loader reports it
  }
  if (first == '{') return load_milvus_index(path, read_file(path));
  return load_faiss_index(path);
}

}  // namespace doppel
