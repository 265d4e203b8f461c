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
constexpr const char* kImageSpace = "image";

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
      fail(
          "{}: the decider uses image features but there is no image encoder; train one with "
          "`doppel train image {}` or retrain the decider without them",
          ws.root().string(), ws.root().string());
    return nullptr;
  }
  auto encoder = std::make_unique<NeuralImageEncoder>(load_image_encoder(ws, 1, images));
  const auto stored = ws.catalog().meta("image_encoder");
  if (stored && *stored != encoder->name())
    fail(
        "{}: the stored image vectors were made by {} but the workspace's image encoder is now "
        "{}; run `doppel embed {}` first",
        ws.catalog_path().string(), *stored, encoder->name(), ws.root().string());
  return encoder;
}

// Views of a vector set's rows by key.
std::unordered_map<int64_t, std::span<const float>> rows_by_key(
    const CatalogStore::VectorSet& rows) {
  std::unordered_map<int64_t, std::span<const float>> out;
  for (size_t i = 0; i < rows.keys.size(); ++i)
    out[rows.keys[i]] = std::span(rows.data).subspan(i * rows.dim, rows.dim);
  return out;
}

// The row of `key`, empty when it has none.
std::span<const float> row(const std::unordered_map<int64_t, std::span<const float>>& rows,
                           int64_t key) {
  auto it = rows.find(key);
  return it == rows.end() ? std::span<const float>() : it->second;
}

// The image index when the workspace has an image encoder: the saved one, else Flat (exact,
// deletes for real) built in memory over the stored image vectors.
std::optional<LiveIndex> image_index_if_any(const Workspace& ws, const NeuralImageEncoder* encoder,
                                            size_t stored_vectors) {
  if (!encoder) return std::nullopt;
  return LiveIndex::load_or_build(ws, kImageSpace, "Flat",
                                  {stored_vectors, encoder->dim(), encoder->name()});
}

}  // namespace

ServerState::ServerState(const std::filesystem::path& workspace, const ImageFetcherOptions& images,
                         PairFeaturizer::Preparation preparation)
    : ws_(Workspace::open(workspace)),
      models_(MatchModels::load(ws_, /*need_decider=*/true, /*need_index=*/false, std::nullopt,
                                preparation)),
      text_encoder_(load_matching_encoder(ws_)),
      image_encoder_(load_image_encoder_if_any(ws_, images, models_.featurizer->layout().image)),
      text_sources_(*text_encoder_, text_encoder_dir(ws_, TextEncoderChoice::kAuto)),
      image_sources_(image_encoder_ ? std::optional<VectorSources>(std::in_place, *image_encoder_,
                                                                   ws_.image_model_dir(), true)
                                    : std::nullopt),
      text_index_(LiveIndex::load_saved(
          ws_, kTextSpace,
          {models_.text_vectors.keys.size(), text_encoder_->dim(), text_encoder_->name()})),
      image_index_(
          image_index_if_any(ws_, image_encoder_.get(), models_.image_vectors.keys.size())) {
  models_.text_vectors = {};  // the featurizer holds its own copies
  models_.image_vectors = {};
  for (const auto& listing : models_.featurizer->listings()) {
    key_of_id_[listing.id] = listing.key;
    model_numbers_.add(listing.key, listing.model_number);
  }
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

std::vector<MatchCandidate> ServerState::match(const Listing& query, int k, int image_k,
                                               const cv::Mat* image,
                                               const Deadline* deadline) const {
  const auto check = [deadline](std::string_view stage) {
    if (deadline) deadline->check(stage);
  };
  check("embedding the title");
  const auto vector = encode(query);
  std::vector<float> image_vector;
  if (image_encoder_ && image) {
    check("embedding the photo");
    image_vector.resize(image_encoder_->dim());
    image_encoder_->encode_images(std::span(image, 1), image_vector.data());
  }
  check("waiting for the catalog lock");
  std::shared_lock lock(state_mutex_);
  check("searching and scoring candidates");
  const MatchQuery match_query{query, vector, image_vector, k, image_k};
  auto candidates = score_neighbours(indexes(), *models_.featurizer, *models_.decider, match_query);
  check("answering");
  return candidates;
}

CandidateIndexes ServerState::indexes() const {
  return {text_index_.index(), image_index_ ? &image_index_->index() : nullptr, &model_numbers_};
}

void ServerState::put_in_memory(const Listing& listing, std::span<const float> text_vector,
                                std::span<const float> image_vector) {
  auto& featurizer = *models_.featurizer;
  if (featurizer.contains(listing.key))
    model_numbers_.remove(listing.key, featurizer.listing(listing.key).model_number);
  featurizer.upsert(listing, text_vector, image_vector);
  key_of_id_[listing.id] = listing.key;
  model_numbers_.add(listing.key, listing.model_number);
}

void ServerState::drop_from_memory(int64_t key) {
  auto& featurizer = *models_.featurizer;
  if (!featurizer.contains(key)) return;
  const Listing& listing = featurizer.listing(key);
  key_of_id_.erase(listing.id);
  model_numbers_.remove(key, listing.model_number);
  featurizer.remove(key);
}

void ServerState::catch_up(const std::function<void()>& apply) {
  const auto text_delta = text_index_.read_changes(ws_.catalog());
  std::optional<VectorLogDelta> image_delta;
  if (image_index_) image_delta = image_index_->read_changes(ws_.catalog());
  // The listings whose text or image vector changed, and their current rows, read before the
  // exclusive lock is taken.
  std::vector<int64_t> touched = text_delta.touched;
  if (image_delta) {
    touched.insert(touched.end(), image_delta->touched.begin(), image_delta->touched.end());
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  }
  std::vector<std::optional<Listing>> changed;
  for (int64_t key : touched) changed.push_back(ws_.catalog().get_by_key(key));
  const auto text_rows = ws_.catalog().vectors(kTextSpace, touched);
  const auto image_rows = ws_.catalog().vectors(kImageSpace, touched);
  const auto text_of = rows_by_key(text_rows), image_of = rows_by_key(image_rows);

  std::unique_lock lock(state_mutex_);
  text_index_.apply(text_delta);
  if (image_delta) image_index_->apply(*image_delta);
  for (size_t i = 0; i < touched.size(); ++i) {
    if (changed[i])
      put_in_memory(*changed[i], row(text_of, touched[i]), row(image_of, touched[i]));
    else
      drop_from_memory(touched[i]);
  }
  apply();
}

Listing ServerState::upsert(Listing listing, bool* created) {
  const auto vector = encode(listing);
  const auto image_vector = encode_image(listing);
  const uint64_t text_source = text_sources_.of(listing);
  const uint64_t image_source = image_sources_ ? image_sources_->of(listing) : 0;
  std::lock_guard writer(writer_mutex_);
  CatalogStore& catalog = ws_.catalog();
  std::vector<Listing> batch{std::move(listing)};
  CatalogStore::UpsertStats stats;
  catalog.in_transaction([&] {
    stats = catalog.upsert(batch);
    catalog.put_vectors(kTextSpace, std::span(&batch[0].key, 1), vector.data(),
                        static_cast<int>(vector.size()), std::span(&text_source, 1));
    // With an image encoder the stored image vector follows the listing's photo (none: removed).
    if (!image_vector.empty())
      catalog.put_vectors(kImageSpace, std::span(&batch[0].key, 1), image_vector.data(),
                          static_cast<int>(image_vector.size()), std::span(&image_source, 1));
    else if (image_encoder_)
      catalog.remove_vectors(kImageSpace, std::span(&batch[0].key, 1));
  });
  if (created) *created = stats.inserted == 1;
  // An unchanged vector logs nothing, so the listing's new fields are applied here as well.
  catch_up([&] { put_in_memory(batch[0], vector, image_vector); });
  return batch[0];
}

bool ServerState::remove(std::string_view id) {
  std::lock_guard writer(writer_mutex_);
  const auto stored = ws_.catalog().get(id);
  if (!stored) return false;
  ws_.catalog().remove(id);
  catch_up([&] { drop_from_memory(stored->key); });
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
  return cluster_around(indexes(), *models_.featurizer, *models_.decider, *key, ClusterSearch{});
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
  return uncertain_pairs(text_index_.index(), *models_.featurizer, *models_.decider, keys,
                         labelled_,
                         /*k=*/10, n);
}

ServerStats ServerState::stats() const {
  std::shared_lock lock(state_mutex_);
  ServerStats s;
  s.listings = models_.featurizer->size();
  s.indexed = text_index_.index().size();
  s.index_spec = text_index_.index().spec();
  if (image_index_) {
    s.image_indexed = image_index_->index().size();
    s.image_index_spec = image_index_->index().spec();
  }
  s.text_encoder = text_encoder_->name();
  if (image_encoder_) s.image_encoder = image_encoder_->name();
  s.threshold = models_.decider->threshold();
  s.decider_models = models_.decider->num_models();
  s.vector_log_seq = text_index_.seq();
  return s;
}

void ServerState::save_index() {
  std::lock_guard writer(writer_mutex_);
  std::shared_lock lock(state_mutex_);
  text_index_.save(ws_);
  if (image_index_) image_index_->save(ws_);
}

}  // namespace doppel
