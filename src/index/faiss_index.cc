// VectorIndex over FAISS:
// - Flat: IndexIDMap2(IndexFlatIP), FAISS ids = catalog keys.
// - IVF family ("[OPQ<m>,|PCA<d>,]IVF<nlist>[_HNSW<M>],Flat|SQ8|PQ<m>"): IndexIVFFlat /
//         IndexIVFScalarQuantizer / IndexIVFPQ (8-bit codes), optionally under an
//         IndexPreTransform (OPQMatrix / PCAMatrix). The coarse quantizer is an IndexFlatIP over
//         the centroids, or with _HNSW<M> an IndexHNSWFlat graph over them (k-means still
//         assigns on a flat index while training; adding and searching then find a vector's
//         lists in ~log(nlist) steps instead of nlist). FAISS ids = catalog keys (IVF stores
//         ids natively; wrapping it in an IndexIDMap breaks after remove_ids, because IDMap
//         compacts its id table while the IVF lists keep the old positions).
// - ",RFlat" / ",Refine(SQ8)": IndexRefineFlat / IndexRefine(IndexScalarQuantizer) over the IVF
//         structure. FAISS 1.7.3's IndexRefine has neither add_with_ids nor remove_ids, so these
//         are addressed by position with a node→key table and tombstones, like HNSW.
// - ",RDisk": the IVF structure with keys as ids, plus a VectorStore (vector_store.h) holding
//         the full vectors in a memory-mapped file beside the index; search re-ranks
//         k×k_factor candidates by the exact inner product.
// - HNSW: IndexHNSWFlat addressed by node number, with our own node→key table. FAISS's HNSW
//         cannot delete, so removed nodes stay as tombstones, marked -1 in that table.
// Loading maps IVF lists from the index file (IO_FLAG_MMAP) instead of copying them. A bare
// inner-product IVF-Flat index is searched by search_ivf_flat (ivf_flat_search.h) and Flat by
// exact_top_k, whose dot products give the same bits in any batch; every other structure by
// FAISS.
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/IndexRefine.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/VectorTransform.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>
#include <faiss/invlists/OnDiskInvertedLists.h>
#include <faiss/utils/distances.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <limits>
#include <numeric>
#include <random>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "index/exact_top_k.h"
#include "index/index_backends.h"
#include "index/ivf_flat_search.h"
#include "index/vector_index.h"
#include "index/vector_store.h"
#include "util/binary_io.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {
namespace {

using faiss_id = faiss::Index::idx_t;

constexpr char kMagic[8] = {'D', 'P', 'L', 'I', 'N', 'D', 'E', 'X'};
constexpr uint32_t kFormatVersion = 2;  // 2 added the vectors generation; 1 is still read

constexpr const char* kAcceptedSpecs =
    "accepted forms: \"Flat\", \"HNSW<M>[,efConstruction=<n>][,efSearch=<n>]\" (e.g. "
    "\"HNSW32,efSearch=64\"), \"[OPQ<m>,|PCA<d>,]IVF<nlist>[_HNSW<M>],Flat|SQ8|PQ<m>"
    "[,RFlat|,Refine(SQ8)|,RDisk][,nprobe=<n>][,k_factor=<n>]\" (e.g. \"IVF1024,Flat,nprobe=16\", "
    "\"IVF4096,SQ8\", \"OPQ16,IVF4096,PQ16,nprobe=32\", \"IVF16384_HNSW32,PQ32,RDisk,k_factor=8\"; "
    "PQ's m must divide the dimension it codes; k_factor only with a refine stage)";

enum class Kind { kFlat, kHnsw, kIvf };
enum class Transform { kNone, kOpq, kPca };
enum class Codec { kFlat, kSq8, kPq };
enum class Refine { kNone, kFlat, kSq8, kDisk };

struct Spec {
  Kind kind = Kind::kFlat;
  int hnsw_m = 0;
  int ef_construction = 200;
  int ef_search = 128;
  Transform transform = Transform::kNone;
  int transform_param = 0;  // OPQ's m or PCA's output dim
  int nlist = 0;
  int coarse_hnsw_m = 0;  // IVF<nlist>_HNSW<M>: M of the coarse quantizer's graph; 0 = flat
  Codec codec = Codec::kFlat;
  int pq_m = 0;
  Refine refine = Refine::kNone;
  int nprobe = 16;
  int k_factor = 4;

  // The dimension the IVF stage sees (PCA reduces it).
  int coarse_dim(int dim) const { return transform == Transform::kPca ? transform_param : dim; }
  // FAISS ids are positions, mapped to keys by node_keys (HNSW; IndexRefine has no
  // add_with_ids/remove_ids in FAISS 1.7.3); removal leaves tombstones.
  bool node_addressed() const {
    return kind == Kind::kHnsw || refine == Refine::kFlat || refine == Refine::kSq8;
  }
  // merge_index takes it: inverted lists split by key (no graph, no refine table by position).
  bool mergeable() const { return kind == Kind::kIvf && !node_addressed(); }

  std::string canonical() const {
    switch (kind) {
      case Kind::kFlat:
        return "Flat";
      case Kind::kHnsw:
        return fmt::format("HNSW{},efConstruction={},efSearch={}", hnsw_m, ef_construction,
                           ef_search);
      case Kind::kIvf: {
        std::string s;
        if (transform == Transform::kOpq) s += fmt::format("OPQ{},", transform_param);
        if (transform == Transform::kPca) s += fmt::format("PCA{},", transform_param);
        s += fmt::format("IVF{}", nlist);
        s += coarse_hnsw_m > 0 ? fmt::format("_HNSW{},", coarse_hnsw_m) : ",";
        s += codec == Codec::kFlat  ? "Flat"
             : codec == Codec::kSq8 ? "SQ8"
                                    : fmt::format("PQ{}", pq_m);
        if (refine == Refine::kFlat) s += ",RFlat";
        if (refine == Refine::kSq8) s += ",Refine(SQ8)";
        if (refine == Refine::kDisk) s += ",RDisk";
        s += fmt::format(",nprobe={}", nprobe);
        if (refine != Refine::kNone) s += fmt::format(",k_factor={}", k_factor);
        return s;
      }
    }
    return {};
  }
};

[[noreturn]] void bad_spec(std::string_view spec, std::string_view why) {
  fail("bad index spec \"{}\": {}; {}", spec, why, kAcceptedSpecs);
}

int parse_positive(std::string_view spec, std::string_view text, std::string_view what) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) {
    bad_spec(spec, fmt::format("{} must be a positive integer, got \"{}\"", what, text));
  }
  return value;
}

std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return parts;
}

Spec parse_spec(std::string_view spec) {
  const std::vector<std::string_view> parts = split_commas(spec);
  Spec s;
  size_t next = 0;
  std::string_view head = parts[next++];
  if (head.starts_with("OPQ") || head.starts_with("PCA")) {
    s.transform = head.starts_with("OPQ") ? Transform::kOpq : Transform::kPca;
    s.transform_param =
        parse_positive(spec, head.substr(3), head.starts_with("OPQ") ? "OPQ's m" : "PCA's d");
    if (next >= parts.size() || !parts[next].starts_with("IVF")) {
      bad_spec(spec, fmt::format("\"{}\" must be followed by \",IVF<nlist>\"", head));
    }
    head = parts[next++];
  }
  if (head == "Flat") {
    s.kind = Kind::kFlat;
  } else if (head.starts_with("HNSW")) {
    s.kind = Kind::kHnsw;
    s.hnsw_m = parse_positive(spec, head.substr(4), "HNSW's M");
  } else if (head.starts_with("IVF")) {
    s.kind = Kind::kIvf;
    const size_t hnsw = head.find("_HNSW");
    s.nlist = parse_positive(spec, head.substr(3, hnsw == std::string_view::npos ? hnsw : hnsw - 3),
                             "IVF's nlist");
    if (hnsw != std::string_view::npos) {
      s.coarse_hnsw_m = parse_positive(spec, head.substr(hnsw + 5), "the coarse HNSW's M");
    }
    const std::string_view codec = next < parts.size() ? parts[next] : std::string_view();
    if (codec == "Flat") {
      s.codec = Codec::kFlat;
    } else if (codec == "SQ8") {
      s.codec = Codec::kSq8;
    } else if (codec.starts_with("PQ")) {
      s.codec = Codec::kPq;
      s.pq_m = parse_positive(spec, codec.substr(2), "PQ's m");
    } else {
      bad_spec(spec, "IVF<nlist> must be followed by \",Flat\", \",SQ8\" or \",PQ<m>\"");
    }
    ++next;
    const std::string_view refine = next < parts.size() ? parts[next] : std::string_view();
    if (refine == "RFlat") s.refine = Refine::kFlat;
    if (refine == "Refine(SQ8)") s.refine = Refine::kSq8;
    if (refine == "RDisk") s.refine = Refine::kDisk;
    if (s.refine != Refine::kNone) ++next;
  } else {
    bad_spec(spec, fmt::format("unknown index type \"{}\"", head));
  }
  for (size_t i = next; i < parts.size(); ++i) {
    const std::string_view part = parts[i];
    const size_t eq = part.find('=');
    const std::string_view name = part.substr(0, eq);
    if (eq == std::string_view::npos)
      bad_spec(spec, fmt::format("expected name=value at \"{}\"", part));
    const std::string_view value = part.substr(eq + 1);
    if (s.kind == Kind::kHnsw && name == "efConstruction") {
      s.ef_construction = parse_positive(spec, value, name);
    } else if (s.kind == Kind::kHnsw && name == "efSearch") {
      s.ef_search = parse_positive(spec, value, name);
    } else if (s.kind == Kind::kIvf && name == "nprobe") {
      s.nprobe = parse_positive(spec, value, name);
    } else if (s.refine != Refine::kNone && name == "k_factor") {
      s.k_factor = parse_positive(spec, value, name);
    } else {
      bad_spec(spec, fmt::format("parameter \"{}\" does not apply to {}", name, head));
    }
  }
  return s;
}

// The checks that need the dimension.
void check_dims(std::string_view spec, const Spec& s, int dim) {
  if (s.transform == Transform::kOpq && dim % s.transform_param != 0) {
    bad_spec(spec, fmt::format("OPQ{} needs m to divide the dimension {}", s.transform_param, dim));
  }
  if (s.transform == Transform::kPca && s.transform_param > dim) {
    bad_spec(spec, fmt::format("PCA{} cannot reduce dimension {} to {}", s.transform_param, dim,
                               s.transform_param));
  }
  if (s.codec == Codec::kPq && s.coarse_dim(dim) % s.pq_m != 0) {
    bad_spec(spec, fmt::format("PQ{} needs m to divide the dimension {} it codes", s.pq_m,
                               s.coarse_dim(dim)));
  }
}

// Builds the empty FAISS structure a spec describes (see the comment at the top of the file).
std::unique_ptr<faiss::Index> build_faiss(const Spec& s, int dim) {
  switch (s.kind) {
    case Kind::kFlat: {
      auto map = std::make_unique<faiss::IndexIDMap2>(new faiss::IndexFlatIP(dim));
      map->own_fields = true;
      return map;
    }
    case Kind::kHnsw: {
      auto hnsw =
          std::make_unique<faiss::IndexHNSWFlat>(dim, s.hnsw_m, faiss::METRIC_INNER_PRODUCT);
      hnsw->hnsw.efConstruction = s.ef_construction;
      return hnsw;
    }
    case Kind::kIvf:
      break;
  }
  const int d = s.coarse_dim(dim);
  const auto ip = faiss::METRIC_INNER_PRODUCT;
  const size_t nlist = static_cast<size_t>(s.nlist);
  faiss::Index* quantizer = nullptr;
  if (s.coarse_hnsw_m > 0) {
    auto* graph = new faiss::IndexHNSWFlat(d, s.coarse_hnsw_m, ip);
    graph->hnsw.efConstruction = 200;  // only nlist nodes: a careful graph is cheap
    quantizer = graph;
  } else {
    quantizer = new faiss::IndexFlatIP(d);
  }
  faiss::IndexIVF* ivf = nullptr;
  switch (s.codec) {
    case Codec::kFlat:
      ivf = new faiss::IndexIVFFlat(quantizer, d, nlist, ip);
      break;
    case Codec::kSq8:
      ivf = new faiss::IndexIVFScalarQuantizer(quantizer, d, nlist, faiss::ScalarQuantizer::QT_8bit,
                                               ip, true);
      break;
    case Codec::kPq:
      ivf = new faiss::IndexIVFPQ(quantizer, d, nlist, static_cast<size_t>(s.pq_m), 8, ip);
      break;
  }
  ivf->own_fields = true;
  // A graph cannot assign during k-means: cluster on a flat index, then add the centroids to it.
  if (s.coarse_hnsw_m > 0) ivf->quantizer_trains_alone = 2;
  std::unique_ptr<faiss::Index> top(ivf);
  if (s.transform != Transform::kNone) {
    faiss::VectorTransform* vt = nullptr;
    if (s.transform == Transform::kOpq) {
      vt = new faiss::OPQMatrix(dim, s.transform_param);
    } else {
      vt = new faiss::PCAMatrix(dim, s.transform_param, 0.0f, false);
    }
    auto pt = std::make_unique<faiss::IndexPreTransform>(vt, top.release());
    pt->own_fields = true;
    top = std::move(pt);
  }
  if (s.refine == Refine::kFlat) {
    auto r = std::make_unique<faiss::IndexRefineFlat>(top.release());
    r->own_fields = true;
    top = std::move(r);
  } else if (s.refine == Refine::kSq8) {
    auto r = std::make_unique<faiss::IndexRefine>(
        top.release(), new faiss::IndexScalarQuantizer(dim, faiss::ScalarQuantizer::QT_8bit, ip));
    r->own_fields = true;
    r->own_refine_index = true;
    top = std::move(r);
  }
  return top;
}

// The IndexIVF inside an IVF-family structure (under IndexRefine and IndexPreTransform).
faiss::IndexIVF* find_ivf(faiss::Index* index) {
  if (auto* r = dynamic_cast<faiss::IndexRefine*>(index)) index = r->base_index;
  if (auto* pt = dynamic_cast<faiss::IndexPreTransform*>(index)) index = pt->index;
  return dynamic_cast<faiss::IndexIVF*>(index);
}

// An IVF index loaded with IO_FLAG_MMAP reads its lists from a read-only mapping of its file.
// Copies them into ordinary in-memory lists (no-op for any other index): before the first add or
// remove, and before a save, as FAISS writes mapped lists as a reference to the file they are
// mapped from, which the save replaces.
void copy_mapped_lists_to_memory(faiss::Index* index) {
  faiss::IndexIVF* ivf = find_ivf(index);
  const auto* mapped =
      ivf ? dynamic_cast<const faiss::OnDiskInvertedLists*>(ivf->invlists) : nullptr;
  if (mapped == nullptr) return;
  auto lists = std::make_unique<faiss::ArrayInvertedLists>(mapped->nlist, mapped->code_size);
  for (size_t l = 0; l < mapped->nlist; ++l) {
    const size_t size = mapped->list_size(l);
    if (size == 0) continue;
    faiss::InvertedLists::ScopedIds ids(mapped, l);
    faiss::InvertedLists::ScopedCodes codes(mapped, l);
    lists->add_entries(l, size, ids.get(), codes.get());
  }
  ivf->replace_invlists(lists.release(), true);
}

// The coarse quantizer's graph of an IVF<n>_HNSW<M> structure; nullptr for any other index.
faiss::IndexHNSWFlat* coarse_graph(faiss::Index* index) {
  faiss::IndexIVF* ivf = find_ivf(index);
  return ivf == nullptr ? nullptr : dynamic_cast<faiss::IndexHNSWFlat*>(ivf->quantizer);
}

// While alive, narrows the beam of an IVF's coarse graph (if it has one) to what assigning each
// vector to its one nearest list needs (FAISS's own default efSearch), then restores the search
// beam (2×nprobe): a beam of 128 made adding 10M vectors to IVF16384_HNSW32 several times slower
// than to a flat quantizer.
class AssignmentBeam {
 public:
  explicit AssignmentBeam(faiss::Index* index) : graph_(coarse_graph(index)) {
    if (graph_ == nullptr) return;
    search_beam_ = graph_->hnsw.efSearch;
    graph_->hnsw.efSearch = kAssignmentBeam;
  }
  ~AssignmentBeam() {
    if (graph_ != nullptr) graph_->hnsw.efSearch = search_beam_;
  }
  AssignmentBeam(const AssignmentBeam&) = delete;
  AssignmentBeam& operator=(const AssignmentBeam&) = delete;

 private:
  static constexpr int kAssignmentBeam = 16;
  faiss::IndexHNSWFlat* graph_;
  int search_beam_ = 0;
};

// Trains an IVF-family structure. The transform is trained by hand: PCA's mean subtraction is
// switched off (bias zeroed) before the IVF stage learns from its output, because
// <q - mu, x - mu> does not rank x like <q, x> does; a pure projection does (approximately).
void train_ivf_family(faiss::Index* index, size_t n, const float* x) {
  const auto fn = static_cast<faiss_id>(n);
  if (auto* r = dynamic_cast<faiss::IndexRefine*>(index)) {
    train_ivf_family(r->base_index, n, x);
    r->refine_index->train(fn, x);
    r->is_trained = true;
    return;
  }
  if (auto* pt = dynamic_cast<faiss::IndexPreTransform*>(index)) {
    faiss::VectorTransform* vt = pt->chain.at(0);
    vt->train(fn, x);
    if (auto* pca = dynamic_cast<faiss::PCAMatrix*>(vt)) {
      std::fill(pca->b.begin(), pca->b.end(), 0.0f);
    }
    std::vector<float> xt(n * static_cast<size_t>(vt->d_out));
    vt->apply_noalloc(fn, x, xt.data());
    pt->index->train(fn, xt.data());
    pt->is_trained = true;
    return;
  }
  index->train(fn, x);
}

// Whether a deserialised FAISS structure is the one spec describes.
bool matches_spec(const Spec& s, faiss::Index* index, int dim) {
  const auto ip = faiss::METRIC_INNER_PRODUCT;
  switch (s.kind) {
    case Kind::kFlat: {
      auto* map = dynamic_cast<faiss::IndexIDMap2*>(index);
      return map != nullptr && dynamic_cast<faiss::IndexFlatIP*>(map->index) != nullptr;
    }
    case Kind::kHnsw:
      return dynamic_cast<faiss::IndexHNSWFlat*>(index) != nullptr && index->metric_type == ip;
    case Kind::kIvf:
      break;
  }
  if (index->metric_type != ip) return false;
  if (s.refine == Refine::kFlat || s.refine == Refine::kSq8) {
    auto* r = dynamic_cast<faiss::IndexRefine*>(index);
    if (r == nullptr) return false;
    const bool flat = dynamic_cast<faiss::IndexFlat*>(r->refine_index) != nullptr;
    const bool sq8 = dynamic_cast<faiss::IndexScalarQuantizer*>(r->refine_index) != nullptr;
    if ((s.refine == Refine::kFlat) != flat || (s.refine == Refine::kSq8) != sq8) return false;
    if (r->refine_index->metric_type != ip || r->refine_index->d != dim) return false;
    index = r->base_index;
  } else if (dynamic_cast<faiss::IndexRefine*>(index) != nullptr) {
    return false;
  }
  if (s.transform != Transform::kNone) {
    auto* pt = dynamic_cast<faiss::IndexPreTransform*>(index);
    if (pt == nullptr || pt->chain.size() != 1) return false;
    const auto* vt = pt->chain[0];
    // FAISS 1.7.3 writes an OPQMatrix as a plain LinearTransform ("LTra"): it reads back as one.
    const bool pca = dynamic_cast<const faiss::PCAMatrix*>(vt) != nullptr;
    const bool opq = !pca && dynamic_cast<const faiss::LinearTransform*>(vt) != nullptr;
    if ((s.transform == Transform::kOpq) != opq || (s.transform == Transform::kPca) != pca) {
      return false;
    }
    if (vt->d_in != dim || vt->d_out != s.coarse_dim(dim)) return false;
    index = pt->index;
  } else if (dynamic_cast<faiss::IndexPreTransform*>(index) != nullptr) {
    return false;
  }
  auto* ivf = dynamic_cast<faiss::IndexIVF*>(index);
  if (ivf == nullptr || ivf->nlist != static_cast<size_t>(s.nlist) || ivf->metric_type != ip ||
      ivf->d != s.coarse_dim(dim)) {
    return false;
  }
  if (s.coarse_hnsw_m > 0) {
    auto* graph = dynamic_cast<faiss::IndexHNSWFlat*>(ivf->quantizer);
    if (graph == nullptr || graph->hnsw.nb_neighbors(1) != s.coarse_hnsw_m) return false;
  } else if (dynamic_cast<faiss::IndexFlatIP*>(ivf->quantizer) == nullptr) {
    return false;
  }
  switch (s.codec) {
    case Codec::kFlat:
      return dynamic_cast<faiss::IndexIVFFlat*>(ivf) != nullptr;
    case Codec::kSq8: {
      auto* sq = dynamic_cast<faiss::IndexIVFScalarQuantizer*>(ivf);
      return sq != nullptr && sq->sq.qtype == faiss::ScalarQuantizer::QT_8bit;
    }
    case Codec::kPq: {
      auto* pq = dynamic_cast<faiss::IndexIVFPQ*>(ivf);
      return pq != nullptr && pq->pq.M == static_cast<size_t>(s.pq_m) && pq->pq.nbits == 8;
    }
  }
  return false;
}

// Whether two IVF-family structures of one spec hold the same trained parameters: transform,
// coarse centroids and PQ or SQ codebooks. Indexes filled from copies of one trained index do.
bool same_training(faiss::Index* a, faiss::Index* b) {
  auto* pa = dynamic_cast<faiss::IndexPreTransform*>(a);
  auto* pb = dynamic_cast<faiss::IndexPreTransform*>(b);
  if ((pa == nullptr) != (pb == nullptr)) return false;
  if (pa != nullptr) {
    const auto* ta = dynamic_cast<const faiss::LinearTransform*>(pa->chain.at(0));
    const auto* tb = dynamic_cast<const faiss::LinearTransform*>(pb->chain.at(0));
    if (ta == nullptr || tb == nullptr || ta->A != tb->A || ta->b != tb->b) return false;
  }
  const faiss::IndexIVF* ia = find_ivf(a);
  const faiss::IndexIVF* ib = find_ivf(b);
  if (ia->nlist != ib->nlist || ia->d != ib->d || ia->code_size != ib->code_size) return false;
  const auto nlist = static_cast<faiss_id>(ia->nlist);
  std::vector<float> ca(ia->nlist * static_cast<size_t>(ia->d));
  std::vector<float> cb(ca.size());
  ia->quantizer->reconstruct_n(0, nlist, ca.data());
  ib->quantizer->reconstruct_n(0, nlist, cb.data());
  if (ca != cb) return false;
  const auto* qa = dynamic_cast<const faiss::IndexIVFPQ*>(ia);
  const auto* qb = dynamic_cast<const faiss::IndexIVFPQ*>(ib);
  if (qa != nullptr && (qb == nullptr || qa->pq.centroids != qb->pq.centroids)) return false;
  const auto* sa = dynamic_cast<const faiss::IndexIVFScalarQuantizer*>(ia);
  const auto* sb = dynamic_cast<const faiss::IndexIVFScalarQuantizer*>(ib);
  return sa == nullptr || (sb != nullptr && sa->sq.trained == sb->sq.trained);
}

// Orders one inverted list by id, carrying the codes along: the order adding in key order gives.
void sort_list_by_id(faiss::ArrayInvertedLists& lists, size_t list) {
  auto& ids = lists.ids[list];
  if (std::is_sorted(ids.begin(), ids.end())) return;
  auto& codes = lists.codes[list];
  const size_t code_size = lists.code_size;
  std::vector<size_t> order(ids.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a] < ids[b]; });
  std::vector<faiss_id> sorted_ids(ids.size());
  std::vector<uint8_t> sorted_codes(codes.size());
  for (size_t i = 0; i < order.size(); ++i) {
    sorted_ids[i] = ids[order[i]];
    std::copy_n(codes.data() + order[i] * code_size, code_size,
                sorted_codes.data() + i * code_size);
  }
  ids.swap(sorted_ids);
  codes.swap(sorted_codes);
}

class FaissIndex final : public VectorIndex {
 public:
  FaissIndex(const Spec& spec, int dim)
      : parsed_(spec), spec_(spec.canonical()), dim_(dim), index_(build_faiss(spec, dim)) {
    if (spec.refine == Refine::kDisk) store_ = std::make_unique<VectorStore>(dim);
    apply_search_params();
  }

  // Adopts a deserialised FAISS index (and for RDisk its mapped vectors); the caller has checked
  // that it matches spec and dim.
  FaissIndex(const Spec& spec, int dim, std::unique_ptr<faiss::Index> index,
             std::vector<int64_t> node_keys, std::unique_ptr<VectorStore> store)
      : parsed_(spec),
        spec_(spec.canonical()),
        dim_(dim),
        index_(std::move(index)),
        node_keys_(std::move(node_keys)),
        store_(std::move(store)) {
    if (parsed_.node_addressed()) {
      for (size_t node = 0; node < node_keys_.size(); ++node) {
        if (node_keys_[node] >= 0) {
          live_[node_keys_[node]] = static_cast<faiss_id>(node);
        } else {
          ++tombstones_;
        }
      }
    } else if (parsed_.kind == Kind::kFlat) {
      const auto& ids = static_cast<faiss::IndexIDMap2*>(index_.get())->id_map;
      for (faiss_id key : ids) live_[key] = key;
    } else if (!store_) {  // RDisk keeps no key map: its vector store answers contains()
      for_each_ivf_id([this](faiss_id id) { live_[id] = id; });
    }
    apply_search_params();
  }

  int dim() const override { return dim_; }
  size_t size() const override { return store_ ? store_->size() : live_.size(); }
  const std::string& spec() const override { return spec_; }
  bool is_trained() const override { return index_->is_trained; }
  const VectorStore* store() const { return store_.get(); }

  // Calls f on every FAISS id in the inverted lists (IVF family).
  template <typename F>
  void for_each_ivf_id(F f) const {
    const faiss::InvertedLists* lists = find_ivf(index_.get())->invlists;
    for (size_t l = 0; l < lists->nlist; ++l) {
      faiss::InvertedLists::ScopedIds ids(lists, l);
      for (size_t i = 0; i < lists->list_size(l); ++i) f(ids.get()[i]);
    }
  }

  void train(size_t n, const float* x) override {
    if (parsed_.kind != Kind::kIvf) return;
    if (index_->is_trained) fail("index {}: already trained", spec_);
    if (n < static_cast<size_t>(parsed_.nlist)) {
      fail("index {}: training needs at least nlist={} vectors, got {}", spec_, parsed_.nlist, n);
    }
    const bool codebooks = parsed_.codec == Codec::kPq || parsed_.transform == Transform::kOpq;
    if (codebooks && n < 256) {
      fail(
          "index {}: training PQ/OPQ codebooks (256 centroids each) needs at least 256 vectors, "
          "got {}",
          spec_, n);
    }
    try {
      const AssignmentBeam beam(index_.get());  // PQ trains on residuals to assigned centroids
      train_ivf_family(index_.get(), n, x);
    } catch (const faiss::FaissException& e) {
      fail("index {}: training on {} vectors failed: {}", spec_, n, e.what());
    }
  }

  void add(size_t n, const float* x, const int64_t* keys) override {
    if (!index_->is_trained) fail("index {}: add before train", spec_);
    std::unordered_set<int64_t> batch;
    for (size_t i = 0; i < n; ++i) {
      if (keys[i] < 0)
        fail("index {}: key {} (row {} of the batch) is negative", spec_, keys[i], i);
      if (contains(keys[i])) fail("index {}: key {} is already present", spec_, keys[i]);
      if (!batch.insert(keys[i]).second) {
        fail("index {}: key {} appears twice in the batch", spec_, keys[i]);
      }
    }
    if (n == 0) return;
    copy_mapped_lists_to_memory(index_.get());
    const AssignmentBeam beam(index_.get());
    if (parsed_.node_addressed()) {
      const faiss_id first = index_->ntotal;
      index_->add(static_cast<faiss_id>(n), x);
      for (size_t i = 0; i < n; ++i) {
        node_keys_.push_back(keys[i]);
        live_[keys[i]] = first + static_cast<faiss_id>(i);
      }
      return;
    }
    static_assert(sizeof(faiss_id) == sizeof(int64_t));
    if (store_) store_->append(n, x, keys);  // first: it can fail (disk full) before FAISS changes
    index_->add_with_ids(static_cast<faiss_id>(n), x, reinterpret_cast<const faiss_id*>(keys));
    if (!store_) {
      for (size_t i = 0; i < n; ++i) live_[keys[i]] = keys[i];
    }
  }

  size_t remove(size_t n, const int64_t* keys) override {
    std::vector<faiss_id> ids;
    for (size_t i = 0; i < n; ++i) {
      if (store_) {
        if (store_->remove(keys[i])) ids.push_back(keys[i]);
        continue;
      }
      auto it = live_.find(keys[i]);
      if (it == live_.end()) continue;
      ids.push_back(it->second);
      live_.erase(it);
    }
    if (ids.empty()) return 0;
    if (parsed_.node_addressed()) {
      for (faiss_id node : ids) node_keys_[node] = -1;
      tombstones_ += ids.size();
    } else {
      copy_mapped_lists_to_memory(index_.get());
      faiss::IDSelectorBatch selector(ids.size(), ids.data());
      index_->remove_ids(selector);
    }
    return ids.size();
  }

  void search(size_t n, const float* queries, int k, float* scores, int64_t* keys) const override {
    if (k <= 0) fail("index {}: k must be positive, got {}", spec_, k);
    const float kNone = -std::numeric_limits<float>::infinity();
    const size_t kk = static_cast<size_t>(k);
    if (n == 0) return;
    if (index_->ntotal == 0) {
      std::fill(scores, scores + n * kk, kNone);
      std::fill(keys, keys + n * kk, -1);
      return;
    }
    if (store_) return search_and_rerank(n, queries, kk, scores, keys);
    // Tombstones: fetch enough that k live results survive the filter.
    const size_t ntotal = static_cast<size_t>(index_->ntotal);
    const size_t fetch = parsed_.node_addressed() ? std::min(kk + tombstones_, ntotal) : kk;
    std::vector<float> d(n * fetch);
    std::vector<faiss_id> ids(n * fetch);
    const auto* ivf_flat = dynamic_cast<const faiss::IndexIVFFlat*>(index_.get());
    if (ivf_flat != nullptr && ivf_flat->metric_type == faiss::METRIC_INNER_PRODUCT) {
      search_ivf_flat(*ivf_flat, n, queries, fetch, d.data(), ids.data());
    } else if (parsed_.kind == Kind::kFlat) {
      search_flat(n, queries, fetch, d.data(), ids.data());
    } else {
      index_->search(static_cast<faiss_id>(n), queries, static_cast<faiss_id>(fetch), d.data(),
                     ids.data());
    }
    for (size_t q = 0; q < n; ++q) {
      size_t out = 0;
      for (size_t r = 0; r < fetch && out < kk; ++r) {
        faiss_id id = ids[q * fetch + r];
        if (id < 0) continue;
        int64_t key = parsed_.node_addressed() ? node_keys_[id] : id;
        if (key < 0) continue;
        scores[q * kk + out] = d[q * fetch + r];
        keys[q * kk + out] = key;
        ++out;
      }
      for (; out < kk; ++out) {
        scores[q * kk + out] = kNone;
        keys[q * kk + out] = -1;
      }
    }
  }

  // merge_index (vector_index.h): every check comes before the first change.
  void absorb(FaissIndex& other) {
    if (!parsed_.mergeable()) {
      fail(
          "index {}: only IVF indexes (without RFlat or Refine(SQ8)) can be merged; build it on "
          "one machine",
          spec_);
    }
    if (other.spec_ != spec_ || other.dim_ != dim_) {
      fail("indexes {} ({}-d) and {} ({}-d) cannot be merged: their specs differ", spec_, dim_,
           other.spec_, other.dim_);
    }
    if (!same_training(index_.get(), other.index_.get())) {
      fail(
          "index {}: the two indexes were trained apart (their centroids, codebooks or transform "
          "differ); fill copies of one trained index",
          spec_);
    }
    std::vector<int64_t> incoming;
    other.for_each_ivf_id([&](faiss_id id) { incoming.push_back(id); });
    for (const int64_t key : incoming) {
      if (contains(key)) fail("index {}: key {} is in both indexes", spec_, key);
    }
    copy_mapped_lists_to_memory(index_.get());
    copy_mapped_lists_to_memory(other.index_.get());
    if (store_) {  // first: it can fail (disk full) before the lists change
      std::sort(incoming.begin(), incoming.end());
      constexpr size_t kRows = 4096;
      std::vector<float> rows(kRows * static_cast<size_t>(dim_));
      for (size_t start = 0; start < incoming.size(); start += kRows) {
        const size_t n = std::min(kRows, incoming.size() - start);
        for (size_t i = 0; i < n; ++i) {
          float* out = rows.data() + i * static_cast<size_t>(dim_);
          const float* row = other.store_->row(incoming[start + i], out);
          if (row == nullptr)
            fail("index {}: key {} has no stored row", other.spec_, incoming[start + i]);
          if (row != out) std::copy_n(row, dim_, out);
        }
        store_->append(n, rows.data(), incoming.data() + start);
      }
    }
    faiss::IndexIVF* mine = find_ivf(index_.get());
    const faiss::InvertedLists* theirs = find_ivf(other.index_.get())->invlists;
    auto* lists = dynamic_cast<faiss::ArrayInvertedLists*>(mine->invlists);
    if (lists == nullptr) fail("index {}: its inverted lists are not in memory", spec_);
    for (size_t l = 0; l < lists->nlist; ++l) {
      const size_t size = theirs->list_size(l);
      if (size == 0) continue;
      faiss::InvertedLists::ScopedIds ids(theirs, l);
      faiss::InvertedLists::ScopedCodes codes(theirs, l);
      lists->add_entries(l, size, ids.get(), codes.get());
      sort_list_by_id(*lists, l);
    }
    const auto added = static_cast<faiss_id>(incoming.size());
    mine->ntotal += added;
    if (index_.get() != mine) index_->ntotal += added;  // the IndexPreTransform around it
    if (!store_) {
      for (const int64_t key : incoming) live_[key] = key;
    }
  }

  void save(const std::filesystem::path& path) const override;

  // The parameters, appended to the canonical spec, override the ones in it; parse_spec checks
  // that each applies to this kind of index.
  void set_search_params(std::string_view params) override {
    if (params.empty()) fail("index {}: no search parameters given", spec_);
    for (const std::string_view part : split_commas(params)) {
      const std::string_view name = part.substr(0, part.find('='));
      if (!is_faiss_search_param(name)) {
        fail(
            "index {}: \"{}\" is not a search-time parameter (those are nprobe and k_factor for "
            "IVF, efSearch for HNSW); rebuild the index to change it",
            spec_, name);
      }
    }
    parsed_ = parse_spec(fmt::format("{},{}", spec_, params));
    spec_ = parsed_.canonical();
    apply_search_params();
  }

 private:
  bool contains(int64_t key) const { return store_ ? store_->contains(key) : live_.contains(key); }

  // Flat: exact_top_k over the stored rows, whose row numbers the IDMap's table turns into keys.
  void search_flat(size_t n, const float* queries, size_t k, float* scores, faiss_id* ids) const {
    const auto* map = static_cast<const faiss::IndexIDMap2*>(index_.get());
    const auto* flat = static_cast<const faiss::IndexFlat*>(map->index);
    static_assert(sizeof(faiss_id) == sizeof(int64_t));
    auto* rows = reinterpret_cast<int64_t*>(ids);
    exact_top_k(static_cast<size_t>(flat->ntotal), flat->get_xb(), dim_, n, queries,
                static_cast<int>(k), scores, rows);
    for (size_t i = 0; i < n * k; ++i) {
      if (rows[i] >= 0) ids[i] = map->id_map[static_cast<size_t>(rows[i])];
    }
  }

  // RDisk: k×k_factor candidates from the IVF stage, re-ranked by the exact inner product with
  // the full vectors read through the store's mapping.
  void search_and_rerank(size_t n, const float* queries, size_t kk, float* scores,
                         int64_t* keys) const {
    const size_t fetch =
        std::min(kk * static_cast<size_t>(parsed_.k_factor), static_cast<size_t>(index_->ntotal));
    std::vector<float> d(n * fetch);
    std::vector<faiss_id> ids(n * fetch);
    index_->search(static_cast<faiss_id>(n), queries, static_cast<faiss_id>(fetch), d.data(),
                   ids.data());
    std::vector<float> scratch(static_cast<size_t>(dim_));
    std::vector<std::pair<float, int64_t>> ranked;
    for (size_t q = 0; q < n; ++q) {
      const float* query = queries + q * static_cast<size_t>(dim_);
      ranked.clear();
      for (size_t r = 0; r < fetch; ++r) {
        const faiss_id id = ids[q * fetch + r];
        if (id < 0) continue;
        const float* row = store_->row(id, scratch.data());
        if (row == nullptr) continue;  // not expected: the store and the lists move together
        ranked.emplace_back(faiss::fvec_inner_product(query, row, static_cast<size_t>(dim_)), id);
      }
      const size_t m = std::min(kk, ranked.size());
      std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(m),
                        ranked.end(), [](const auto& a, const auto& b) {
                          return a.first != b.first ? a.first > b.first : a.second < b.second;
                        });
      for (size_t r = 0; r < kk; ++r) {
        scores[q * kk + r] = r < m ? ranked[r].first : -std::numeric_limits<float>::infinity();
        keys[q * kk + r] = r < m ? ranked[r].second : -1;
      }
    }
  }

  void apply_search_params() {
    if (parsed_.kind == Kind::kHnsw) {
      auto* hnsw = static_cast<faiss::IndexHNSWFlat*>(index_.get());
      hnsw->hnsw.efSearch = parsed_.ef_search;
      hnsw->hnsw.efConstruction = parsed_.ef_construction;
    } else if (parsed_.kind == Kind::kIvf) {
      faiss::IndexIVF* ivf = find_ivf(index_.get());
      ivf->nprobe = static_cast<size_t>(parsed_.nprobe);
      if (auto* graph = coarse_graph(index_.get())) {
        // The graph returns nprobe lists; a wider beam finds the true nearest ones.
        graph->hnsw.efSearch = std::max(64, 2 * parsed_.nprobe);
      }
      if (auto* r = dynamic_cast<faiss::IndexRefine*>(index_.get())) {
        r->k_factor = static_cast<float>(parsed_.k_factor);
      }
      if (auto* mapped = dynamic_cast<faiss::OnDiskInvertedLists*>(ivf->invlists)) {
        mapped->prefetch_nthread = 0;  // else every search starts up to 32 prefetch threads
      }
    }
  }

  Spec parsed_;
  std::string spec_;
  int dim_;
  std::unique_ptr<faiss::Index> index_;
  std::unordered_map<int64_t, faiss_id> live_;  // key -> faiss id (node number); not for RDisk
  std::vector<int64_t> node_keys_;              // node-addressed only: node -> key, -1 = tombstone
  size_t tombstones_ = 0;
  std::unique_ptr<VectorStore> store_;  // RDisk only
};

std::filesystem::path vectors_path(const std::filesystem::path& index_path) {
  return index_path.string() + ".vectors";
}

void FaissIndex::save(const std::filesystem::path& path) const {
  // RDisk: the vectors file first, then the index file naming the same generation, so a crash
  // between the two is detected on load instead of pairing an index with the wrong rows.
  uint64_t generation = 0;
  if (store_) {
    std::random_device rd;
    while (generation == 0) generation = (uint64_t(rd()) << 32) ^ rd();
    store_->save(vectors_path(path), generation);
  }
  // Logically const: the same lists, moved from the file's mapping into memory.
  copy_mapped_lists_to_memory(index_.get());
  faiss::VectorIOWriter writer;
  faiss::write_index(index_.get(), &writer);
  std::string bytes(kMagic, sizeof(kMagic));
  append_pod<uint32_t>(bytes, kFormatVersion);
  append_pod<uint32_t>(bytes, static_cast<uint32_t>(dim_));
  append_pod<uint64_t>(bytes, size());
  append_pod<uint32_t>(bytes, static_cast<uint32_t>(spec_.size()));
  bytes += spec_;
  append_pod<uint64_t>(bytes, node_keys_.size());
  append_bytes(bytes, node_keys_.data(), node_keys_.size() * sizeof(int64_t));
  append_pod<uint64_t>(bytes, generation);
  append_bytes(bytes, writer.data.data(), writer.data.size());
  write_file_atomic(path, bytes);
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

bool faiss_spec_merges(std::string_view spec) { return parse_spec(spec).mergeable(); }

bool is_faiss_search_param(std::string_view name) {
  return name == "nprobe" || name == "k_factor" || name == "efSearch";
}

void merge_index(VectorIndex& into, std::unique_ptr<VectorIndex> from) {
  auto* a = dynamic_cast<FaissIndex*>(&into);
  auto* b = dynamic_cast<FaissIndex*>(from.get());
  if (a == nullptr || b == nullptr) {
    fail(
        "indexes {} and {}: only FAISS indexes can be merged (a Milvus collection is filled on "
        "its server)",
        into.spec(), from->spec());
  }
  a->absorb(*b);
}

std::unique_ptr<VectorIndex> make_faiss_index(std::string_view spec, int dim) {
  if (dim <= 0) fail("index {}: dimension must be positive, got {}", spec, dim);
  const Spec parsed = parse_spec(spec);
  check_dims(spec, parsed, dim);
  return std::make_unique<FaissIndex>(parsed, dim);
}

std::unique_ptr<VectorIndex> load_faiss_index(const std::filesystem::path& path) {
  const std::string where = path.string();
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(where.c_str(), "rb"));
  if (!file) fail("{}: cannot open index file: {}", where, std::strerror(errno));
  std::error_code ec;
  const size_t file_size = std::filesystem::file_size(path, ec);
  if (ec) fail("{}: cannot stat index file: {}", where, ec.message());
  // The header (at most 1064 bytes before the node table) is parsed from a prefix; the node
  // table and the FAISS payload are read from the file itself, so that FAISS can map the lists.
  std::string prefix(std::min<size_t>(file_size, 4096), '\0');
  if (std::fread(prefix.data(), 1, prefix.size(), file.get()) != prefix.size()) {
    fail("{}: cannot read index file", where);
  }
  BinaryReader in(path, prefix, "index file");
  in.expect_magic(std::string_view(kMagic, sizeof(kMagic)));
  const auto version = in.get<uint32_t>("format version");
  if (version != 1 && version != kFormatVersion) {
    fail("{}: index format version {}, this doppel reads 1 and {}", where, version, kFormatVersion);
  }
  const auto dim = in.get<uint32_t>("dim");
  const auto count = in.get<uint64_t>("count");
  const auto spec_len = in.get<uint32_t>("spec length");
  if (spec_len > 1024) fail("{}: corrupt index header: spec length {}", where, spec_len);
  std::string spec_text(spec_len, '\0');
  in.read(spec_text.data(), spec_len, "spec");
  Spec spec;
  try {
    spec = parse_spec(spec_text);
    check_dims(spec_text, spec, static_cast<int>(dim));
  } catch (const Error& e) {
    fail("{}: {}", where, e.what());
  }
  const auto n_nodes = in.get<uint64_t>("HNSW node count");
  const size_t table_pos = in.pos();
  if (n_nodes > (file_size - table_pos) / sizeof(int64_t)) {
    fail("{}: truncated index file: header lists {} HNSW nodes, file has {} bytes", where, n_nodes,
         file_size);
  }
  std::vector<int64_t> node_keys(n_nodes);
  uint64_t generation = 0;
  if (std::fseek(file.get(), static_cast<long>(table_pos), SEEK_SET) != 0 ||
      std::fread(node_keys.data(), sizeof(int64_t), n_nodes, file.get()) != n_nodes ||
      (version >= 2 && std::fread(&generation, sizeof(generation), 1, file.get()) != 1)) {
    fail("{}: truncated index file: ends inside the node table", where);
  }
  const long payload_start = std::ftell(file.get());

  // IVF lists are mapped from this file (FAISS 1.7.3 IO_FLAG_MMAP: OnDiskInvertedLists over the
  // ArrayInvertedLists layout), not copied to the heap; see docs/index_format.md.
  const int io_flags = spec.kind == Kind::kIvf ? faiss::IO_FLAG_MMAP : 0;
  std::unique_ptr<faiss::Index> index;
  try {
    faiss::FileIOReader reader(file.get());
    index.reset(faiss::read_index(&reader, io_flags));
  } catch (const std::exception& e) {  // FaissException, or bad_alloc on a garbled size
    fail("{}: FAISS payload is truncated or corrupt ({} bytes after the header): {}", where,
         file_size - static_cast<size_t>(payload_start), e.what());
  }
  const long end = std::ftell(file.get());
  if (end < 0 || static_cast<size_t>(end) > file_size) {
    // A mapped read skips over the lists with fseek: a short file shows up here.
    fail("{}: FAISS payload is truncated or corrupt: its lists end at byte {}, the file has {}",
         where, end, file_size);
  }
  if (static_cast<size_t>(end) != file_size) {
    fail("{}: {} unexpected bytes after the FAISS payload", where,
         file_size - static_cast<size_t>(end));
  }
  if (index->d != static_cast<int>(dim)) {
    fail("{}: header says dim {} but the FAISS payload has dim {}", where, dim, index->d);
  }
  // The payload must be the structure the spec describes.
  const bool node_table_ok =
      spec.node_addressed() ? node_keys.size() == static_cast<size_t>(index->ntotal) : n_nodes == 0;
  if (!node_table_ok || !matches_spec(spec, index.get(), static_cast<int>(dim))) {
    fail("{}: FAISS payload does not match spec \"{}\" ({} vectors, {} node keys)", where,
         spec_text, index->ntotal, n_nodes);
  }
  std::unique_ptr<VectorStore> store;
  if (spec.refine == Refine::kDisk) {
    const auto vpath = vectors_path(path);
    store = VectorStore::open(vpath, static_cast<int>(dim));
    if (store->generation() != generation) {
      fail(
          "{}: belongs to another save of the index (generation {:x}, {} expects {:x}); rebuild "
          "the index",
          vpath.string(), store->generation(), where, generation);
    }
    if (store->size() != static_cast<size_t>(index->ntotal)) {
      fail("{}: holds {} vectors, the index {} holds {}", vpath.string(), store->size(), where,
           index->ntotal);
    }
  } else if (generation != 0) {
    fail("{}: corrupt index header: vectors generation set for spec \"{}\"", where, spec_text);
  }
  auto result = std::make_unique<FaissIndex>(spec, static_cast<int>(dim), std::move(index),
                                             std::move(node_keys), std::move(store));
  if (const VectorStore* s = result->store()) {
    bool all_found = true;
    result->for_each_ivf_id([&](faiss_id id) { all_found = all_found && s->contains(id); });
    if (!all_found) {
      fail("{}: its lists hold keys that {} lacks", where, vectors_path(path).string());
    }
  }
  if (result->size() != count) {
    fail("{}: header count {} but the payload holds {} live vectors", where, count, result->size());
  }
  return result;
}

}  // namespace doppel
