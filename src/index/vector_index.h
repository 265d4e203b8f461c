// VectorIndex — nearest-neighbour search over L2-normalised float vectors by inner product
// (= cosine), keyed by the catalog's int64 keys. Batches (n×d row-major) are the unit of work.
//
// Implementations are chosen by a spec string, parsed in one place (make_index):
//   "Flat"                                   exact search (faiss IndexFlatIP)
//   "HNSW<M>[,efConstruction=<n>][,efSearch=<n>]"
//                                            graph search (faiss IndexHNSWFlat, inner product);
//                                            defaults efConstruction=200, efSearch=128: FAISS's
//                                            own efConstruction=40 missed 5.5% of duplicates on
//                                            this machine's anchor data (see
//                                            shared/anchors/faiss-on-this-machine.md)
//   "[OPQ<m>,|PCA<d>,]IVF<nlist>[_HNSW<M>],Flat|SQ8|PQ<m>[,RFlat|,Refine(SQ8)|,RDisk][,nprobe=<n>][,k_factor=<n>]"
//                                            inverted lists, inner product (faiss IndexIVFFlat /
//                                            IndexIVFScalarQuantizer 8-bit / IndexIVFPQ with 8-bit
//                                            codes; PQ's m must divide the dim it codes), default
//                                            nprobe=16; needs train() with >= nlist rows (>= 256
//                                            for PQ/OPQ). OPQ<m>/PCA<d>: an IndexPreTransform
//                                            (PCA without mean subtraction, so inner products are
//                                            kept; dim() stays the input dim). _HNSW<M>: the
//                                            lists are found through an HNSW graph over the
//                                            centroids instead of a scan of all nlist (for
//                                            nlist in the tens of thousands). Refine stages
//                                            re-rank k×k_factor candidates (default k_factor=4):
//                                            RFlat = IndexRefineFlat (float copy in RAM),
//                                            Refine(SQ8) = IndexRefine over 8-bit SQ,
//                                            RDisk = exact inner product against the full vectors
//                                            in "<index path>.vectors", memory-mapped (page cache,
//                                            not heap; vector_store.h)
//   "milvus://HOST:PORT/COLLECTION[?index=IVF_FLAT|IVF_PQ|HNSW&...]"
//                                            a Milvus collection over REST API v2 (see
//                                            milvus_index.h and docs/milvus.md)
// spec() returns the canonical form with every parameter written out, e.g.
// "HNSW32,efConstruction=200,efSearch=128".
//
// Removal: Flat, IVF (with or without OPQ/PCA) and RDisk delete vectors for real. FAISS's HNSW
// cannot delete, nor can FAISS 1.7.3's IndexRefine (RFlat, Refine(SQ8): no remove_ids, no
// add_with_ids), so those indexes keep removed vectors as tombstones: they still cost memory
// and search time, search over-fetches k + (number of tombstones) and filters them out. A
// removed key may be added again (it gets a new node). Rebuild such an index when many keys
// have been removed.
//
// An index loaded from a file maps its IVF lists from that file (read-only, FAISS
// IO_FLAG_MMAP); the first add/remove copies them into the heap.
//
// Not thread-safe for concurrent writes; concurrent const search() calls are fine.
// On-disk format: docs/index_format.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace doppel {

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;

  virtual int dim() const = 0;
  // Number of live (searchable) keys; tombstones are not counted.
  virtual size_t size() const = 0;
  virtual const std::string& spec() const = 0;
  virtual bool is_trained() const = 0;

  // Learns the coarse quantiser (IVF); a no-op for Flat and HNSW. Error when n is too small.
  virtual void train(size_t n, const float* x) = 0;
  // Adds n rows of dim() floats under keys. Error (and nothing added) when a key is negative,
  // already present, repeated within the batch, or the index is not trained.
  virtual void add(size_t n, const float* x, const int64_t* keys) = 0;
  // Removes the keys that are present; returns how many were. Absent keys are ignored.
  virtual size_t remove(size_t n, const int64_t* keys) = 0;
  // k results per query, best (highest inner product) first: scores and keys each receive n×k
  // values. Rows are padded with key -1 / score -inf when fewer than k vectors exist.
  virtual void search(size_t n, const float* queries, int k, float* scores,
                      int64_t* keys) const = 0;
  // Writes the index atomically (temporary file + rename).
  virtual void save(const std::filesystem::path& path) const = 0;

  // Changes search-time parameters in place, without rebuilding: "nprobe=<n>" and
  // "k_factor=<n>" (IVF, k_factor with a refine stage), "efSearch=<n>" (HNSW), "nprobe=<n>" and
  // "ef=<n>" (Milvus); comma-separated, e.g. "nprobe=64,k_factor=16". spec() then shows them and
  // save() keeps them. Error, with nothing changed, on a malformed list or a parameter that is
  // fixed at build time or does not apply to this index.
  virtual void set_search_params(std::string_view params) = 0;
};

// Builds an empty index. Error on a bad spec (listing the accepted forms) or dim <= 0.
std::unique_ptr<VectorIndex> make_index(std::string_view spec, int dim);

// Whether `name` is a search-time parameter of a FAISS spec (nprobe, k_factor, efSearch): those
// set_search_params changes, written last in a canonical spec.
bool is_faiss_search_param(std::string_view name);

// Moves every vector of `from` into `into`, for an index built in shards
// (pipeline/index_shards.h). Both must be FAISS IVF indexes of one spec (no RFlat or Refine(SQ8)
// stage) filled from copies of one trained index, with no key in common; each inverted list ends
// up ordered by key, so shards of a catalog merge into the index one machine builds from all its
// vectors in key order. Error, with `into` unchanged, otherwise. On an I/O error while copying
// RDisk rows `into` is left inconsistent: do not save it.
void merge_index(VectorIndex& into, std::unique_ptr<VectorIndex> from);
// Whether merge_index takes indexes of this spec; Error on a bad spec.
bool is_mergeable_spec(std::string_view spec);

// Reads an index written by VectorIndex::save. Error naming the path on a wrong magic, an unknown
// format version, a truncated or corrupt payload, or a header that disagrees with the payload.
std::unique_ptr<VectorIndex> load_index(const std::filesystem::path& path);

}  // namespace doppel
