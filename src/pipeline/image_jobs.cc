#include "pipeline/image_jobs.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <unordered_map>
#include <unordered_set>

#include "cluster/clusterer.h"
#include "pipeline/neural_plugin.h"
#include "pipeline/vector_sources.h"
#include "util/error.h"
#include "util/progress.h"

namespace doppel {
namespace fs = std::filesystem;

namespace {

bool is_image_file(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".webp";
}

// The references an --images argument stands for (see training_image_refs).
void append_extra_refs(const std::string& extra, std::vector<std::string>& refs) {
  const fs::path path(extra);
  if (ImageFetcher::is_url(extra)) {
    refs.push_back(extra);
  } else if (fs::is_directory(path)) {
    std::vector<std::string> found;
    for (const auto& entry : fs::recursive_directory_iterator(path)) {
      if (entry.is_regular_file() && is_image_file(entry.path()))
        found.push_back(fs::absolute(entry.path()).string());
    }
    std::sort(found.begin(), found.end());  // directory order is not stable across machines
    refs.insert(refs.end(), found.begin(), found.end());
  } else if (!fs::exists(path)) {
    fail("{}: no such image, folder or list of images", extra);
  } else if (path.extension() == ".txt") {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) refs.push_back(line);
    }
  } else {
    refs.push_back(fs::absolute(path).string());
  }
}

// Listings joined by a labelled match outside valid/test, or by sharing an image, as clusters.
std::unordered_map<int64_t, int64_t> product_clusters(const Workspace& ws,
                                                      const std::vector<Listing>& listings) {
  std::vector<ScoredPair> links;
  for (const auto& label : ws.catalog().labels()) {
    if (label.match && label.split != "valid" && label.split != "test")
      links.push_back({label.key_a, label.key_b, 1.0f});
  }
  std::unordered_map<std::string, int64_t> first_with_image;
  for (const Listing& listing : listings) {
    if (listing.image.empty()) continue;
    auto [it, fresh] = first_with_image.emplace(listing.image, listing.key);
    if (!fresh) links.push_back({it->second, listing.key, 1.0f});
  }
  ClusterOptions options;
  options.linkage = Linkage::kConnectedComponents;
  options.max_cluster_size = std::max<size_t>(1, listings.size());
  return cluster_pairs(links, {}, options);
}

}  // namespace

ImageFetcherOptions workspace_fetcher(const Workspace& ws) {
  ImageFetcherOptions options;
  options.cache_dir = ws.image_cache_dir();
  return options;
}

std::vector<std::string> training_image_refs(const Workspace& ws,
                                             std::span<const std::string> extra) {
  std::vector<std::string> refs;
  for (const Listing& listing : ws.catalog().all_listings())
    if (!listing.image.empty()) refs.push_back(listing.image);
  for (const std::string& item : extra) append_extra_refs(item, refs);
  std::unordered_set<std::string> seen;
  std::erase_if(refs, [&seen](const std::string& ref) { return !seen.insert(ref).second; });
  return refs;
}

std::vector<int> image_product_labels(const Workspace& ws, std::span<const std::string> refs) {
  const auto listings = ws.catalog().all_listings();
  const auto cluster = product_clusters(ws, listings);
  std::unordered_map<int64_t, size_t> cluster_size;
  for (const auto& [key, id] : cluster) ++cluster_size[id];
  std::unordered_map<std::string, int> label_of_ref;
  for (const Listing& listing : listings) {
    auto it = cluster.find(listing.key);
    if (listing.image.empty() || it == cluster.end() || cluster_size[it->second] < 2) continue;
    label_of_ref.emplace(listing.image, static_cast<int>(it->second));
  }
  std::vector<int> labels;
  labels.reserve(refs.size());
  for (const std::string& ref : refs) {
    auto it = label_of_ref.find(ref);
    labels.push_back(it == label_of_ref.end() ? -1 : it->second);
  }
  return labels;
}

MaeReport pretrain_image_model(Workspace& ws, const MaeOptions& options,
                               const ViTMAEConfig& new_model, const ImageEncoderConfig& encoder,
                               std::span<const std::string> extra, bool resume) {
  return neural_plugin().pretrain_image_model(ws, options, new_model, encoder, extra, resume);
}

ContrastiveReport finetune_image_model(Workspace& ws, const ContrastiveOptions& options,
                                       std::span<const std::string> extra, bool resume) {
  return neural_plugin().finetune_image_model(ws, options, extra, resume);
}

std::unique_ptr<ImageEncoder> load_image_encoder(const Workspace& ws, int batch_size,
                                                 std::optional<ImageFetcherOptions> fetcher) {
  if (!NeuralImageEncoder::exists(ws.image_model_dir()))
    fail("{}: no image encoder; train one with `doppel train image {}`",
         ws.image_model_dir().string(), ws.root().string());
  NeuralImageEncoder::Options options;
  options.batch_size = batch_size;
  options.fetcher = fetcher ? *fetcher : workspace_fetcher(ws);
  return neural_plugin().load_image_encoder(ws.image_model_dir(), options);
}

namespace {

// Encodes the images of `listings` in batches of batch_size into the space "image"; a listing
// without a readable image is counted in `report` and listed in `removed`.
SpaceVectors encode_image_listings(const ImageEncoder& encoder, const VectorSources& sources,
                                   std::span<const Listing> listings, size_t batch_size,
                                   ImageEmbedReport& report, Progress& progress) {
  SpaceVectors out;
  out.space = "image";
  out.encoder = encoder.name();
  out.dim = encoder.dim();
  const int dim = out.dim;
  std::vector<float> batch;
  for (size_t start = 0; start < listings.size(); start += batch_size) {
    const auto part = listings.subspan(start, std::min(batch_size, listings.size() - start));
    batch.assign(part.size() * dim, 0.0f);
    encoder.encode(part, batch.data());
    for (size_t i = 0; i < part.size(); ++i) {
      const float* row = batch.data() + i * dim;
      if (is_missing_image(std::span(row, dim))) {
        ++(part[i].image.empty() ? report.without_image : report.unreadable);
        out.removed.push_back(part[i].key);
      } else {
        out.keys.push_back(part[i].key);
        out.data.insert(out.data.end(), row, row + dim);
        out.sources.push_back(sources.of(part[i]));
      }
    }
    progress.advance(part.size());
  }
  report.embedded += out.keys.size();
  return out;
}

}  // namespace

ImageEmbedReport embed_images(Workspace& ws, EmbedScope scope, const EmbedTarget& target,
                              size_t batch_size) {
  const auto encoder = load_image_encoder(ws);
  const VectorSources sources(*encoder, ws.image_model_dir(), /*image_files=*/true);
  ImageEmbedReport report;
  const PagedEmbed paged = embed_in_pages(
      ws.catalog(), "image", sources, scope, target,
      [&](std::span<const Listing> listings, Progress& progress) {
        return encode_image_listings(*encoder, sources, listings, batch_size, report, progress);
      });
  report.listings = paged.listings;
  report.up_to_date = paged.up_to_date;
  return report;
}

}  // namespace doppel
