#include "text/match_trainer.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <random>

#include "nn/optimizer.h"
#include "nn/state_dict.h"
#include "text/text_model.h"
#include "util/error.h"
#include "util/progress.h"

namespace doppel {

void MatchOptions::validate() const {
  if (epochs <= 0) fail("match training: epochs must be positive, got {}", epochs);
  if (patience < 0) fail("match training: patience must be >= 0, got {}", patience);
  if (batch_size < 2) fail("match training: batch_size must be at least 2, got {}", batch_size);
  if (!(temperature > 0)) fail("match training: temperature must be positive, got {}", temperature);
  if (!(body_lr_scale >= 0)) fail("match training: body_lr_scale must be >= 0, got {}", body_lr_scale);
  if (mined_candidates <= 0) {
    fail("match training: mined_candidates must be positive, got {}", mined_candidates);
  }
  optimizer.validate();
}

namespace {

// Cluster id per text: the connected components of the positive pairs.
std::vector<size_t> clusters_of(size_t n, const std::vector<std::pair<size_t, size_t>>& positives) {
  std::vector<size_t> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (auto [a, b] : positives) parent[find(a)] = find(b);
  for (size_t i = 0; i < n; ++i) parent[i] = find(i);
  return parent;
}

using Pairs = std::vector<std::pair<size_t, size_t>>;

// Labelled non-matches by text, for drawing an anchor's hard negative.
std::vector<std::vector<size_t>> labelled_negatives(size_t n, const Pairs& negatives) {
  std::vector<std::vector<size_t>> by_text(n);
  for (auto [a, b] : negatives) {
    by_text[a].push_back(b);
    by_text[b].push_back(a);
  }
  return by_text;
}

// For every text that anchors a positive pair, up to `k` nearest other-cluster texts under the
// current model (brute force: catalogs that are trained on fit a matrix product).
std::vector<std::vector<size_t>> mine_negatives(TextModel& model,
                                                const std::vector<std::vector<int32_t>>& tokens,
                                                const std::vector<size_t>& cluster, const Pairs& positives,
                                                int k) {
  model.train(false);
  auto vectors = model.embed_all(tokens, 256);
  model.train(true);
  std::vector<size_t> anchors;
  for (auto [a, b] : positives) {
    anchors.push_back(a);
    anchors.push_back(b);
  }
  std::sort(anchors.begin(), anchors.end());
  anchors.erase(std::unique(anchors.begin(), anchors.end()), anchors.end());
  std::vector<std::vector<size_t>> mined(tokens.size());
  const int64_t n = vectors.size(0);
  const int64_t width = std::min<int64_t>(n, k + 16);  // room for same-cluster neighbours
  torch::InferenceMode inference;
  for (size_t start = 0; start < anchors.size(); start += 1024) {
    const size_t end = std::min(anchors.size(), start + 1024);
    std::vector<int64_t> rows(anchors.begin() + static_cast<ptrdiff_t>(start),
                              anchors.begin() + static_cast<ptrdiff_t>(end));
    auto sims = vectors.index_select(0, torch::tensor(rows)).mm(vectors.t());
    auto top = std::get<1>(sims.topk(width, 1)).contiguous();
    auto top_a = top.accessor<int64_t, 2>();
    for (size_t r = 0; r < rows.size(); ++r) {
      const size_t anchor = anchors[start + r];
      for (int64_t c = 0; c < width && static_cast<int>(mined[anchor].size()) < k; ++c) {
        const auto other = static_cast<size_t>(top_a[static_cast<int64_t>(r)][c]);
        if (cluster[other] != cluster[anchor]) mined[anchor].push_back(other);
      }
    }
  }
  return mined;
}

double validate(TextModel& model, const std::vector<std::vector<int32_t>>& tokens,
                const MatchTrainingData& data) {
  if (data.valid_pairs.empty()) return 0;
  model.train(false);
  std::vector<std::vector<int32_t>> a, b;
  for (auto [x, y] : data.valid_pairs) {
    a.push_back(tokens[x]);
    b.push_back(tokens[y]);
  }
  auto scores = (model.embed_all(a, 256) * model.embed_all(b, 256)).sum(1).contiguous();
  model.train(true);
  std::span<const float> s(scores.data_ptr<float>(), static_cast<size_t>(scores.numel()));
  return data.valid_metric(s, data.valid_labels);
}

struct Snapshot {
  nn::StateDict bert, head;
};

Snapshot snapshot(TextModel& model) {
  Snapshot s{nn::module_state(*model.mlm()), nn::module_state(*model.head())};
  for (auto* dict : {&s.bert, &s.head}) {
    for (auto& [name, tensor] : *dict) tensor = tensor.detach().clone();
  }
  return s;
}

}  // namespace

MatchReport train_match(const std::filesystem::path& dir, const MatchTrainingData& data,
                        const MatchOptions& options) {
  options.validate();
  if (data.positives.empty()) fail("match training: no matching pairs to learn from");
  if (data.valid_pairs.size() != data.valid_labels.size() ||
      (!data.valid_pairs.empty() && !data.valid_metric)) {
    fail("match training: validation pairs need labels and a metric");
  }
  torch::manual_seed(options.seed);  // a new head's weights and dropout: the same run, the same model
  std::optional<TokenCnnHeadConfig> new_head;
  if (!TextModelFiles::has_head(dir) && TextModelFiles::has_bert(dir)) {
    const auto bert = BertConfig::load(dir / "config.json");
    new_head = options.head;
    if (new_head->layers.empty()) new_head->layers = default_head_for(bert).layers;
    new_head->max_length = std::min(new_head->max_length, bert.max_position_embeddings);
  }
  TextModel model = TextModel::load(dir, /*require_head=*/false, new_head);
  std::vector<std::vector<int32_t>> tokens(data.texts.size());
  for (size_t i = 0; i < data.texts.size(); ++i) tokens[i] = model.tokenize(data.texts[i]);
  for (const Pairs* pairs : {&data.positives, &data.negatives, &data.valid_pairs}) {
    for (auto [a, b] : *pairs) {
      DOPPEL_CHECK(a < tokens.size() && b < tokens.size(), "pair ({}, {}) of {} texts", a, b, tokens.size());
    }
  }
  const auto cluster = clusters_of(tokens.size(), data.positives);
  const auto labelled = labelled_negatives(tokens.size(), data.negatives);
  const bool use_labelled = options.hard_negatives == HardNegatives::kLabelled ||
                            options.hard_negatives == HardNegatives::kBoth;
  const bool use_mined = options.hard_negatives == HardNegatives::kMined ||
                         options.hard_negatives == HardNegatives::kBoth;

  const auto batch = static_cast<size_t>(options.batch_size);
  const int64_t steps_per_epoch = static_cast<int64_t>((data.positives.size() + batch - 1) / batch);
  nn::Optimizer optimizer({{model.head().get(), 1.0}, {model.mlm()->bert.get(), options.body_lr_scale}},
                          options.optimizer, steps_per_epoch * options.epochs);
  MatchReport report;
  report.valid_metric_before = validate(model, tokens, data);
  Snapshot best = snapshot(model);
  double best_metric = -std::numeric_limits<double>::infinity();
  std::mt19937_64 rng(options.seed);
  model.train(true);
  Progress progress("match", static_cast<uint64_t>(steps_per_epoch * options.epochs));
  std::string valid_note;  // the last validation, shown beside the running loss
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    std::vector<std::vector<size_t>> mined;
    if (use_mined) mined = mine_negatives(model, tokens, cluster, data.positives, options.mined_candidates);
    Pairs order = data.positives;
    std::shuffle(order.begin(), order.end(), rng);
    double loss_sum = 0;
    for (size_t start = 0; start < order.size(); start += batch) {
      const size_t end = std::min(order.size(), start + batch);
      std::vector<std::vector<int32_t>> sequences;
      std::vector<size_t> anchors, partners, negatives;
      for (size_t i = start; i < end; ++i) {
        auto [a, b] = order[i];
        if (rng() % 2) std::swap(a, b);
        anchors.push_back(a);
        partners.push_back(b);
      }
      for (size_t a : anchors) {
        std::vector<size_t> pool;
        if (use_labelled) pool.insert(pool.end(), labelled[a].begin(), labelled[a].end());
        if (use_mined) pool.insert(pool.end(), mined[a].begin(), mined[a].end());
        if (!pool.empty()) negatives.push_back(pool[rng() % pool.size()]);
      }
      for (const auto* group : {&anchors, &partners, &negatives}) {
        for (size_t t : *group) sequences.push_back(tokens[t]);
      }
      auto vectors = model.embed(pad_batch(sequences, model.tokenizer().vocab().pad_id()));
      const auto m = static_cast<int64_t>(anchors.size());
      auto a = vectors.narrow(0, 0, m);
      auto candidates = vectors.narrow(0, m, vectors.size(0) - m);  // partners, then negatives
      // Another pair's listing of the same cluster is not a negative: mask it out.
      std::vector<size_t> columns(partners);
      columns.insert(columns.end(), negatives.begin(), negatives.end());
      auto same = torch::zeros({m, static_cast<int64_t>(columns.size())}, torch::kBool);
      auto same_a = same.accessor<bool, 2>();
      for (int64_t r = 0; r < m; ++r) {
        for (size_t c = 0; c < columns.size(); ++c) {
          same_a[r][static_cast<int64_t>(c)] = static_cast<int64_t>(c) != r &&
                                               cluster[columns[c]] == cluster[anchors[static_cast<size_t>(r)]];
        }
      }
      auto targets = torch::arange(m, torch::kInt64);
      auto forward = (a.mm(candidates.t()) / options.temperature).masked_fill(same, -1e4);
      auto p = candidates.narrow(0, 0, m);
      auto backward = (p.mm(a.t()) / options.temperature).masked_fill(same.narrow(1, 0, m), -1e4);
      auto loss = 0.5 * (torch::cross_entropy_loss(forward, targets) +
                         torch::cross_entropy_loss(backward, targets));
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<double>();
      progress.set_note(
          fmt::format("epoch {} loss {:.3f}{}", epoch, loss.item<double>(), valid_note));
      progress.advance();
    }
    report.train_loss.push_back(loss_sum / static_cast<double>(steps_per_epoch));
    if (!data.valid_pairs.empty()) {
      const double metric = validate(model, tokens, data);
      report.valid_metric.push_back(metric);
      if (metric > best_metric) {
        best_metric = metric;
        report.best_epoch = epoch;
        best = snapshot(model);
      }
      valid_note = fmt::format(", valid {:.4f} after epoch {} (best {:.4f}, epoch {})", metric,
                               epoch, best_metric, report.best_epoch);
      if (options.patience > 0 && epoch - report.best_epoch >= options.patience) break;
    }
  }
  progress.finish();
  if (report.best_epoch > 0) {
    nn::load_into(*model.mlm(), best.bert, {}, "best epoch");
    nn::load_into(*model.head(), best.head, {}, "best epoch");
  }
  model.save_bert(dir);
  model.save_head(dir);
  return report;
}

}  // namespace doppel
