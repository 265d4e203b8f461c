#include "server/server_state.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "pipeline/candidates.h"
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
std::unique_ptr<ImageEncoder> load_image_encoder_if_any(const Workspace& ws,
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
  auto encoder = load_image_encoder(ws, 1, images);
  const auto stored = ws.catalog().meta("image_encoder");
  if (stored && *stored != encoder->name())
    fail(
        "{}: the stored image vectors were made by {} but the workspace's image encoder is now "
        "{}; run `doppel embed {}` first",
        ws.catalog_path().string(), *stored, encoder->name(), ws.root().string());
  return encoder;
}

// The image index when the workspace has an image encoder: the saved one, else Flat (exact,
// deletes for real) built in memory over the stored image vectors.
std::optional<LiveIndex> image_index_if_any(const Workspace& ws, const ImageEncoder* encoder,
                                            size_t stored_vectors) {
  if (!encoder) return std::nullopt;
  return LiveIndex::load_or_build(ws, kImageSpace, "Flat",
                                  {stored_vectors, encoder->dim(), encoder->name()});
}

}  // namespace

ServerState::ServerState(const std::filesystem::path& workspace, const ImageFetcherOptions& images)
    : ws_(Workspace::open(workspace)),
      readers_(ws_.catalog_path()),
      models_(MatchModels::load(ws_, /*need_decider=*/true, /*need_index=*/false, std::nullopt,
                                /*need_catalog=*/false)),
      text_encoder_(load_matching_encoder(ws_)),
      image_encoder_(load_image_encoder_if_any(ws_, images, models_.layout.image)),
      text_sources_(*text_encoder_, text_encoder_dir(ws_, TextEncoderChoice::kAuto)),
      image_sources_(image_encoder_ ? std::optional<VectorSources>(std::in_place, *image_encoder_,
                                                                   ws_.image_model_dir(), true)
                                    : std::nullopt),
      text_index_(LiveIndex::load_saved(
          ws_, kTextSpace,
          {ws_.catalog().vector_count(kTextSpace), text_encoder_->dim(), text_encoder_->name()})),
      image_index_(
          image_index_if_any(ws_, image_encoder_.get(), ws_.catalog().vector_count(kImageSpace))) {}

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
  return readers_.read([id](const CatalogStore& catalog) { return catalog.key_of(id); });
}

PairFeaturizer ServerState::stored(std::span<const int64_t> keys) const {
  return readers_.read([&](const CatalogStore& catalog) {
    return stored_listings(catalog, keys, *models_.text_encoder, models_.layout);
  });
}

ListingFetch ServerState::fetch() const {
  return [this](std::span<const int64_t> keys) { return stored(keys); };
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
  const MatchQuery match_query{query, vector, image_vector, k, image_k};
  FoundKeys found;
  {
    // Only the index searches need the lock: a writer waits for them, not for the scoring.
    std::shared_lock lock(state_mutex_);
    check("searching candidates");
    found = find_candidates(indexes(), match_query);
  }
  check("scoring candidates");
  auto candidates = score_candidates(fetch(), *models_.decider, match_query, std::move(found));
  check("answering");
  return candidates;
}

CandidateIndexes ServerState::indexes() const {
  CodeLookup codes = [this](const Listing& listing) {
    return readers_.read(
        [&](const CatalogStore& catalog) { return keys_sharing_a_code(catalog, listing); });
  };
  return {text_index_.index(), image_index_ ? &image_index_->index() : nullptr, std::move(codes)};
}

void ServerState::catch_up() {
  const auto text_delta = text_index_.read_changes(ws_.catalog());
  std::optional<VectorLogDelta> image_delta;
  if (image_index_) image_delta = image_index_->read_changes(ws_.catalog());
  std::unique_lock lock(state_mutex_);
  text_index_.apply(text_delta);
  if (image_delta) image_index_->apply(*image_delta);
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
  catch_up();
  return batch[0];
}

bool ServerState::remove(std::string_view id) {
  std::lock_guard writer(writer_mutex_);
  if (!ws_.catalog().remove(id)) return false;
  catch_up();
  return true;
}

std::optional<Listing> ServerState::listing(std::string_view id) const {
  return readers_.read([id](const CatalogStore& catalog) { return catalog.get(id); });
}

std::optional<std::vector<MatchCandidate>> ServerState::cluster(std::string_view id) const {
  std::shared_lock lock(state_mutex_);
  const auto key = key_of(id);
  if (!key) return std::nullopt;
  auto members = cluster_around(indexes(), fetch(), *models_.decider, *key, ClusterSearch{});
  if (members.empty()) return std::nullopt;  // removed meanwhile
  return members;
}

void ServerState::add_label(std::string_view id_a, std::string_view id_b, bool match) {
  if (id_a == id_b) fail("a label needs two different listings, got '{}' twice", id_a);
  std::lock_guard writer(writer_mutex_);
  ws_.catalog().add_labels({{std::string(id_a), std::string(id_b), match, "train"}}, "review");
}

std::vector<ReviewPair> ServerState::review_queue(size_t n, size_t sample) const {
  // The `sample` keys after the last window's, wrapping round to the first keys.
  const int64_t after = review_cursor_.load();
  auto keys = readers_.read([&](const CatalogStore& catalog) {
    auto window = catalog.keys_after(after, sample);
    if (window.size() < sample)
      for (int64_t key : catalog.keys_after(0, sample - window.size()))
        if (key <= after) window.push_back(key);
    return window;
  });
  if (keys.empty()) return {};
  review_cursor_.store(keys.back());
  // Labels read when needed, not held: another process (`doppel ingest`) may add them too.
  const UnlabelledFilter unlabelled = [this](std::span<const KeyPair> pairs) {
    return readers_.read([&](const CatalogStore& catalog) { return catalog.unlabelled(pairs); });
  };
  std::shared_lock lock(state_mutex_);
  return uncertain_pairs(text_index_.index(), fetch(), *models_.decider, keys, unlabelled,
                         /*k=*/10, n);
}

ServerStats ServerState::stats() const {
  std::shared_lock lock(state_mutex_);
  ServerStats s;
  s.listings = readers_.read([](const CatalogStore& catalog) { return catalog.size(); });
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
