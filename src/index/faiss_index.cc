// VectorIndex over FAISS:
// - Flat: IndexIDMap2(IndexFlatIP), FAISS ids = catalog keys.
// - IVF:  IndexIVFFlat with FAISS ids = catalog keys (IVF stores ids natively; wrapping it in an
//         IndexIDMap breaks after remove_ids, because IDMap compacts its id table while the IVF
//         lists keep the old positions).
// - HNSW: IndexHNSWFlat addressed by node number, with our own node→key table. FAISS's HNSW
//         cannot delete, so removed nodes stay as tombstones, marked -1 in that table.
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <faiss/invlists/InvertedLists.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "index/index_backends.h"
#include "index/vector_index.h"
#include "util/binary_io.h"
#include "util/error.h"
#include "util/files.h"

namespace doppel {
namespace {

using faiss_id = faiss::Index::idx_t;

constexpr char kMagic[8] = {'D', 'P', 'L', 'I', 'N', 'D', 'E', 'X'};
constexpr uint32_t kFormatVersion = 1;

constexpr const char* kAcceptedSpecs =
    "accepted forms: \"Flat\", \"HNSW<M>[,efConstruction=<n>][,efSearch=<n>]\" (e.g. "
    "\"HNSW32,efSearch=64\"), \"IVF<nlist>,Flat[,nprobe=<n>]\" (e.g. \"IVF1024,Flat,nprobe=16\")";

enum class Kind { kFlat, kHnsw, kIvf };

struct Spec {
  Kind kind = Kind::kFlat;
  int hnsw_m = 0;
  int ef_construction = 200;
  int ef_search = 128;
  int nlist = 0;
  int nprobe = 16;

  std::string canonical() const {
    switch (kind) {
      case Kind::kFlat:
        return "Flat";
      case Kind::kHnsw:
        return fmt::format("HNSW{},efConstruction={},efSearch={}", hnsw_m, ef_construction,
                           ef_search);
      case Kind::kIvf:
        return fmt::format("IVF{},Flat,nprobe={}", nlist, nprobe);
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

Spec parse_spec(std::string_view spec) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t comma = spec.find(',', start);
    parts.push_back(spec.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  Spec s;
  size_t next = 1;
  const std::string_view head = parts[0];
  if (head == "Flat") {
    s.kind = Kind::kFlat;
  } else if (head.starts_with("HNSW")) {
    s.kind = Kind::kHnsw;
    s.hnsw_m = parse_positive(spec, head.substr(4), "HNSW's M");
  } else if (head.starts_with("IVF")) {
    s.kind = Kind::kIvf;
    s.nlist = parse_positive(spec, head.substr(3), "IVF's nlist");
    if (parts.size() < 2 || parts[1] != "Flat") {
      bad_spec(spec, "IVF<nlist> must be followed by \",Flat\"");
    }
    next = 2;
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
    } else {
      bad_spec(spec, fmt::format("parameter \"{}\" does not apply to {}", name, head));
    }
  }
  return s;
}

class FaissIndex final : public VectorIndex {
 public:
  FaissIndex(const Spec& spec, int dim) : parsed_(spec), spec_(spec.canonical()), dim_(dim) {
    switch (spec.kind) {
      case Kind::kFlat:
        index_ = std::make_unique<faiss::IndexIDMap2>(new faiss::IndexFlatIP(dim));
        static_cast<faiss::IndexIDMap2*>(index_.get())->own_fields = true;
        break;
      case Kind::kHnsw: {
        auto hnsw =
            std::make_unique<faiss::IndexHNSWFlat>(dim, spec.hnsw_m, faiss::METRIC_INNER_PRODUCT);
        hnsw->hnsw.efConstruction = spec.ef_construction;
        index_ = std::move(hnsw);
        break;
      }
      case Kind::kIvf: {
        auto ivf = std::make_unique<faiss::IndexIVFFlat>(new faiss::IndexFlatIP(dim), dim,
                                                         spec.nlist, faiss::METRIC_INNER_PRODUCT);
        ivf->own_fields = true;
        index_ = std::move(ivf);
        break;
      }
    }
    apply_search_params();
  }

  // Adopts a deserialised FAISS index; the caller has checked it matches spec and dim.
  FaissIndex(const Spec& spec, int dim, std::unique_ptr<faiss::Index> index,
             std::vector<int64_t> node_keys)
      : parsed_(spec),
        spec_(spec.canonical()),
        dim_(dim),
        index_(std::move(index)),
        node_keys_(std::move(node_keys)) {
    if (is_hnsw()) {
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
    } else {
      const auto* lists = static_cast<faiss::IndexIVFFlat*>(index_.get())->invlists;
      for (size_t l = 0; l < lists->nlist; ++l) {
        faiss::InvertedLists::ScopedIds ids(lists, l);
        for (size_t i = 0; i < lists->list_size(l); ++i) live_[ids.get()[i]] = ids.get()[i];
      }
    }
    apply_search_params();
  }

  int dim() const override { return dim_; }
  size_t size() const override { return live_.size(); }
  const std::string& spec() const override { return spec_; }
  bool is_trained() const override { return index_->is_trained; }
  const faiss::Index& faiss_index() const { return *index_; }
  const std::vector<int64_t>& node_keys() const { return node_keys_; }
  bool is_hnsw() const { return parsed_.kind == Kind::kHnsw; }

  void train(size_t n, const float* x) override {
    if (parsed_.kind != Kind::kIvf) return;
    if (index_->is_trained) fail("index {}: already trained", spec_);
    if (n < static_cast<size_t>(parsed_.nlist)) {
      fail("index {}: training needs at least nlist={} vectors, got {}", spec_, parsed_.nlist, n);
    }
    index_->train(static_cast<faiss_id>(n), x);
  }

  void add(size_t n, const float* x, const int64_t* keys) override {
    if (!index_->is_trained) fail("index {}: add before train", spec_);
    std::unordered_set<int64_t> batch;
    for (size_t i = 0; i < n; ++i) {
      if (keys[i] < 0)
        fail("index {}: key {} (row {} of the batch) is negative", spec_, keys[i], i);
      if (live_.contains(keys[i])) fail("index {}: key {} is already present", spec_, keys[i]);
      if (!batch.insert(keys[i]).second) {
        fail("index {}: key {} appears twice in the batch", spec_, keys[i]);
      }
    }
    if (n == 0) return;
    if (is_hnsw()) {
      const faiss_id first = index_->ntotal;
      index_->add(static_cast<faiss_id>(n), x);
      for (size_t i = 0; i < n; ++i) {
        node_keys_.push_back(keys[i]);
        live_[keys[i]] = first + static_cast<faiss_id>(i);
      }
    } else {
      static_assert(sizeof(faiss_id) == sizeof(int64_t));
      index_->add_with_ids(static_cast<faiss_id>(n), x, reinterpret_cast<const faiss_id*>(keys));
      for (size_t i = 0; i < n; ++i) live_[keys[i]] = keys[i];
    }
  }

  size_t remove(size_t n, const int64_t* keys) override {
    std::vector<faiss_id> ids;
    for (size_t i = 0; i < n; ++i) {
      auto it = live_.find(keys[i]);
      if (it == live_.end()) continue;
      ids.push_back(it->second);
      live_.erase(it);
    }
    if (ids.empty()) return 0;
    if (is_hnsw()) {
      for (faiss_id node : ids) node_keys_[node] = -1;
      tombstones_ += ids.size();
    } else {
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
    // HNSW: fetch enough that k live results survive the tombstone filter.
    const size_t fetch =
        is_hnsw() ? std::min<size_t>(kk + tombstones_, static_cast<size_t>(index_->ntotal)) : kk;
    std::vector<float> d(n * fetch);
    std::vector<faiss_id> ids(n * fetch);
    index_->search(static_cast<faiss_id>(n), queries, static_cast<faiss_id>(fetch), d.data(),
                   ids.data());
    for (size_t q = 0; q < n; ++q) {
      size_t out = 0;
      for (size_t r = 0; r < fetch && out < kk; ++r) {
        faiss_id id = ids[q * fetch + r];
        if (id < 0) continue;
        int64_t key = is_hnsw() ? node_keys_[id] : id;
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

  void save(const std::filesystem::path& path) const override;

 private:
  void apply_search_params() {
    if (parsed_.kind == Kind::kHnsw) {
      auto* hnsw = static_cast<faiss::IndexHNSWFlat*>(index_.get());
      hnsw->hnsw.efSearch = parsed_.ef_search;
      hnsw->hnsw.efConstruction = parsed_.ef_construction;
    } else if (parsed_.kind == Kind::kIvf) {
      static_cast<faiss::IndexIVFFlat*>(index_.get())->nprobe = parsed_.nprobe;
    }
  }

  Spec parsed_;
  std::string spec_;
  int dim_;
  std::unique_ptr<faiss::Index> index_;
  std::unordered_map<int64_t, faiss_id> live_;  // key -> faiss id (node number for HNSW)
  std::vector<int64_t> node_keys_;              // HNSW only: node -> key, -1 = tombstone
  size_t tombstones_ = 0;
};

void FaissIndex::save(const std::filesystem::path& path) const {
  faiss::VectorIOWriter writer;
  faiss::write_index(index_.get(), &writer);
  std::string bytes(kMagic, sizeof(kMagic));
  append_pod<uint32_t>(bytes, kFormatVersion);
  append_pod<uint32_t>(bytes, static_cast<uint32_t>(dim_));
  append_pod<uint64_t>(bytes, live_.size());
  append_pod<uint32_t>(bytes, static_cast<uint32_t>(spec_.size()));
  bytes += spec_;
  append_pod<uint64_t>(bytes, node_keys_.size());
  append_bytes(bytes, node_keys_.data(), node_keys_.size() * sizeof(int64_t));
  append_bytes(bytes, writer.data.data(), writer.data.size());
  write_file_atomic(path, bytes);
}

}  // namespace

std::unique_ptr<VectorIndex> make_faiss_index(std::string_view spec, int dim) {
  if (dim <= 0) fail("index {}: dimension must be positive, got {}", spec, dim);
  return std::make_unique<FaissIndex>(parse_spec(spec), dim);
}

std::unique_ptr<VectorIndex> load_faiss_index(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  const std::string where = path.string();
  BinaryReader in(path, bytes, "index file");
  char magic[sizeof(kMagic)];
  in.read(magic, sizeof(magic), "magic");
  if (std::memcmp(magic, kMagic, sizeof(kMagic)) != 0) {
    fail("{}: not a doppel index file: magic is {:?}, expected \"DPLINDEX\"", where,
         std::string(magic, sizeof(magic)));
  }
  const auto version = in.get<uint32_t>("format version");
  if (version != kFormatVersion) {
    fail("{}: index format version {}, this doppel reads {}", where, version, kFormatVersion);
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
  } catch (const Error& e) {
    fail("{}: {}", where, e.what());
  }
  const auto n_nodes = in.get<uint64_t>("HNSW node count");
  if (n_nodes > in.remaining() / sizeof(int64_t)) {
    fail("{}: truncated index file: header lists {} HNSW nodes, file has {} bytes", where, n_nodes,
         bytes.size());
  }
  std::vector<int64_t> node_keys(n_nodes);
  in.read(node_keys.data(), n_nodes * sizeof(int64_t), "HNSW node keys");

  faiss::VectorIOReader reader;
  reader.data.assign(in.rest().begin(), in.rest().end());
  std::unique_ptr<faiss::Index> index;
  try {
    index.reset(faiss::read_index(&reader));
  } catch (const std::exception& e) {  // FaissException, or bad_alloc on a garbled size
    fail("{}: FAISS payload is truncated or corrupt ({} bytes after the header): {}", where,
         reader.data.size(), e.what());
  }
  if (reader.rp != reader.data.size()) {
    fail("{}: {} unexpected bytes after the FAISS payload", where, reader.data.size() - reader.rp);
  }
  if (index->d != static_cast<int>(dim)) {
    fail("{}: header says dim {} but the FAISS payload has dim {}", where, dim, index->d);
  }
  // The payload must be the structure the spec describes.
  bool shape_ok = false;
  if (spec.kind == Kind::kHnsw) {
    shape_ok = dynamic_cast<faiss::IndexHNSWFlat*>(index.get()) != nullptr &&
               index->metric_type == faiss::METRIC_INNER_PRODUCT &&
               node_keys.size() == static_cast<size_t>(index->ntotal);
  } else if (spec.kind == Kind::kIvf) {
    auto* ivf = dynamic_cast<faiss::IndexIVFFlat*>(index.get());
    shape_ok = n_nodes == 0 && ivf != nullptr && ivf->nlist == static_cast<size_t>(spec.nlist) &&
               ivf->metric_type == faiss::METRIC_INNER_PRODUCT;
  } else if (auto* map = dynamic_cast<faiss::IndexIDMap2*>(index.get())) {
    shape_ok = n_nodes == 0 && dynamic_cast<faiss::IndexFlatIP*>(map->index) != nullptr;
  }
  if (!shape_ok) {
    fail("{}: FAISS payload does not match spec \"{}\" ({} vectors, {} node keys)", where,
         spec_text, index->ntotal, n_nodes);
  }
  auto result = std::make_unique<FaissIndex>(spec, static_cast<int>(dim), std::move(index),
                                             std::move(node_keys));
  if (result->size() != count) {
    fail("{}: header count {} but the payload holds {} live vectors", where, count, result->size());
  }
  return result;
}

}  // namespace doppel
