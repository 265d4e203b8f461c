#include "server/server_state.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "pipeline/image_jobs.h"
#include "pipeline/text_jobs.h"
#include "server/online_match.h"
#include "util/error.h"

namespace doppel {
namespace {

constexpr const char* kTextSpace = "text";

// The encoder that embeds new listings must be the one whose vectors the index holds.
std::unique_ptr<Encoder> load_matching_encoder(const Workspace& ws) {
  auto encoder = load_vector_encoder(ws, TextEncoderChoice::kAuto);
  const auto stored = ws.catalog().meta("text_encoder");
  if (stored && *stored != encoder->name())
    fail(
        "{}: the stored text vectors were made by {} but the workspace's encoder is now {}; "
        "run `doppel embed {}` and `doppel index {} --update` first",
        ws.catalog_path().string(), *stored, encoder->name(), ws.root().string(),
        ws.root().string());
  return encoder;
}

// The workspace's image encoder, when it has one, reading photos as `images` says; null without.
std::unique_ptr<NeuralImageEncoder> load_image_encoder_if_any(const Workspace& ws,
                                                              const ImageFetcherOptions& images,
                                                              bool decider_needs_it) {
  if (!NeuralImageEncoder::exists(ws.image_model_dir())) {
    if (decider_needs_it)
      fail("{}: the decider uses image features but there is no image encoder; train one with "
           "`doppel train image {}` or retrain the decider without them",
           ws.root().string(), ws.root().string());
    return nullptr;
  }
  auto encoder = std::make_unique<NeuralImageEncoder>(load_image_encoder(ws, 1, images));
  const auto stored = ws.catalog().meta("image_encoder");
  if (stored && *stored != encoder->name())
    fail("{}: the stored image vectors were made by {} but the workspace's image encoder is now "
         "{}; run `doppel embed {}` first",
         ws.catalog_path().string(), *stored, encoder->name(), ws.root().string());
  return encoder;
}

}  // namespace

ServerState::ServerState(const std::filesystem::path& workspace, const ImageFetcherOptions& images)
    : ws_(Workspace::open(workspace)),
      models_(MatchModels::load(ws_, /*need_decider=*/true, /*need_index=*/false)),
      text_encoder_(load_matching_encoder(ws_)),
      image_encoder_(load_image_encoder_if_any(ws_, images, models_.featurizer->layout().image)) {
  auto caught_up = load_caught_up_index(ws_, kTextSpace);
  if (caught_up.update.written + caught_up.update.removed > 0)
    spdlog::info("index caught up with catalog.db: {} vector(s) written, {} removed",
                 caught_up.update.written, caught_up.update.removed);
  index_ = std::move(caught_up.index);
  applied_seq_ = caught_up.seq;
  if (index_->size() != models_.text_vectors.keys.size())
    fail("{}: holds {} vectors but catalog.db has {}; rebuild it with `doppel index {}`",
         ws_.index_path(kTextSpace).string(), index_->size(), models_.text_vectors.keys.size(),
         ws_.root().string());
  if (index_->dim() != text_encoder_->dim())
    fail("{}: {}-d vectors, but the text encoder {} makes {}-d; rebuild it with `doppel index {}`",
         ws_.index_path(kTextSpace).string(), index_->dim(), text_encoder_->name(),
         text_encoder_->dim(), ws_.root().string());
  models_.text_vectors = {};  // the featurizer holds its own copies
  models_.image_vectors = {};
  for (const auto& listing : models_.featurizer->listings()) key_of_id_[listing.id] = listing.key;
  for (const auto& label : ws_.catalog().labels()) labelled_.emplace(label.key_a, label.key_b);
}

std::vector<float> ServerState::encode(const Listing& listing) const {
  std::vector<float> vector(text_encoder_->dim());
  text_encoder_->encode(std::span(&listing, 1), vector.data());
  return vector;
}

std::vector<float> ServerState::encode_image(const Listing& listing) const {
  if (!image_encoder_ || listing.image.empty()) return {};
  std::vector<float> vector(image_encoder_->dim());
  image_encoder_->encode(std::span(&listing, 1), vector.data());
  if (is_missing_image(vector)) return {};
  return vector;
}

std::optional<int64_t> ServerState::key_of(std::string_view id) const {
  auto it = key_of_id_.find(std::string(id));
  if (it == key_of_id_.end()) return std::nullopt;
  return it->second;
}

std::vector<MatchCandidate> ServerState::match(const Listing& query, int k,
                                               const cv::Mat* image) const {
  const auto vector = encode(query);
  std::vector<float> image_vector;
  if (image_encoder_ && image) {
    image_vector.resize(image_encoder_->dim());
    image_encoder_->encode_images(std::span(image, 1), image_vector.data());
  }
  std::shared_lock lock(state_mutex_);
  return score_neighbours(*index_, *models_.featurizer, *models_.decider, query, vector, k,
                          /*self=*/-1, image_vector);
}

void ServerState::catch_up(const std::function<void()>& apply) {
  const auto delta = read_vector_log(ws_.catalog(), kTextSpace, applied_seq_);
  // The listings behind the vector changes, read before the exclusive lock is taken.
  std::vector<std::optional<Listing>> changed;
  for (int64_t key : delta.touched) changed.push_back(ws_.catalog().get_by_key(key));
  std::unordered_map<int64_t, std::span<const float>> written, images;
  for (size_t i = 0; i < delta.written.keys.size(); ++i)
    written[delta.written.keys[i]] =
        std::span(delta.written.data).subspan(i * delta.written.dim, delta.written.dim);
  const auto image_rows = ws_.catalog().vectors("image", delta.touched);
  for (size_t i = 0; i < image_rows.keys.size(); ++i)
    images[image_rows.keys[i]] =
        std::span(image_rows.data).subspan(i * image_rows.dim, image_rows.dim);
  const auto row = [](const auto& rows, int64_t key) {
    auto it = rows.find(key);
    return it == rows.end() ? std::span<const float>() : it->second;
  };

  std::unique_lock lock(state_mutex_);
  apply_vector_log(*index_, delta, ws_.index_path(kTextSpace));
  applied_seq_ = delta.head;
  auto& featurizer = *models_.featurizer;
  for (size_t i = 0; i < delta.touched.size(); ++i) {
    const int64_t key = delta.touched[i];
    if (!changed[i]) {
      if (featurizer.contains(key)) key_of_id_.erase(featurizer.listing(key).id);
      featurizer.remove(key);
      continue;
    }
    featurizer.upsert(*changed[i], row(written, key), row(images, key));
    key_of_id_[changed[i]->id] = key;
  }
  apply();
}

Listing ServerState::upsert(Listing listing, bool* created) {
  const auto vector = encode(listing);
  const auto image_vector = encode_image(listing);
  std::lock_guard writer(writer_mutex_);
  CatalogStore& catalog = ws_.catalog();
  std::vector<Listing> batch{std::move(listing)};
  CatalogStore::UpsertStats stats;
  catalog.in_transaction([&] {
    stats = catalog.upsert(batch);
    catalog.put_vectors(kTextSpace, std::span(&batch[0].key, 1), vector.data(),
                        static_cast<int>(vector.size()));
    // With an image encoder the stored image vector follows the listing's photo (none: removed).
    if (!image_vector.empty())
      catalog.put_vectors("image", std::span(&batch[0].key, 1), image_vector.data(),
                          static_cast<int>(image_vector.size()));
    else if (image_encoder_)
      catalog.remove_vectors("image", std::span(&batch[0].key, 1));
  });
  if (created) *created = stats.inserted == 1;
  // An unchanged vector logs nothing, so the listing's new fields are applied here as well.
  catch_up([&] {
    models_.featurizer->upsert(batch[0], vector, image_vector);
    key_of_id_[batch[0].id] = batch[0].key;
  });
  return batch[0];
}

bool ServerState::remove(std::string_view id) {
  std::lock_guard writer(writer_mutex_);
  const auto stored = ws_.catalog().get(id);
  if (!stored) return false;
  ws_.catalog().remove(id);
  catch_up([&] {
    models_.featurizer->remove(stored->key);
    key_of_id_.erase(stored->id);
  });
  return true;
}

std::optional<Listing> ServerState::listing(std::string_view id) const {
  std::shared_lock lock(state_mutex_);
  const auto key = key_of(id);
  if (!key) return std::nullopt;
  return models_.featurizer->listing(*key);
}

std::optional<std::vector<MatchCandidate>> ServerState::cluster(std::string_view id) const {
  std::shared_lock lock(state_mutex_);
  const auto key = key_of(id);
  if (!key) return std::nullopt;
  return cluster_around(*index_, *models_.featurizer, *models_.decider, *key, ClusterSearch{});
}

void ServerState::add_label(std::string_view id_a, std::string_view id_b, bool match) {
  if (id_a == id_b) fail("a label needs two different listings, got '{}' twice", id_a);
  std::lock_guard writer(writer_mutex_);
  ws_.catalog().add_labels({{std::string(id_a), std::string(id_b), match, "train"}}, "review");
  std::unique_lock lock(state_mutex_);
  const auto a = key_of(id_a), b = key_of(id_b);
  if (a && b) labelled_.emplace(std::min(*a, *b), std::max(*a, *b));
}

std::vector<ReviewPair> ServerState::review_queue(size_t n, size_t sample) const {
  std::shared_lock lock(state_mutex_);
  const auto& listings = models_.featurizer->listings();
  if (listings.empty()) return {};
  const size_t start = review_cursor_.fetch_add(sample) % listings.size();
  std::vector<int64_t> keys;
  for (size_t i = 0; i < std::min(sample, listings.size()); ++i)
    keys.push_back(listings[(start + i) % listings.size()].key);
  return uncertain_pairs(*index_, *models_.featurizer, *models_.decider, keys, labelled_,
                         /*k=*/10, n);
}

ServerStats ServerState::stats() const {
  std::shared_lock lock(state_mutex_);
  ServerStats s;
  s.listings = models_.featurizer->size();
  s.indexed = index_->size();
  s.index_spec = index_->spec();
  s.text_encoder = text_encoder_->name();
  if (image_encoder_) s.image_encoder = image_encoder_->name();
  s.threshold = models_.decider->threshold();
  s.decider_models = models_.decider->num_models();
  s.vector_log_seq = applied_seq_;
  return s;
}

void ServerState::save_index() {
  std::lock_guard writer(writer_mutex_);
  std::shared_lock lock(state_mutex_);
  save_workspace_index(ws_, kTextSpace, *index_, applied_seq_);
}

}  // namespace doppel
