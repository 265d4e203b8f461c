// Tests of the BERT text encoder: config, Hugging Face names and folder layout, MLM pretraining,
// match fine-tuning and the Encoder it yields. Models are tiny and trained in seconds.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>

#include "nn/state_dict.h"
#include "text/bert_model.h"
#include "text/match_trainer.h"
#include "text/mlm_trainer.h"
#include "text/neural_text_encoder.h"
#include "text/text_model.h"
#include "text/wordpiece_trainer.h"
#include "util/expect_error.h"
#include "util/files.h"

namespace doppel {
namespace {

namespace fs = std::filesystem;

BertConfig tiny_config(int vocab_size) {
  BertConfig c;
  c.vocab_size = vocab_size;
  c.hidden_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 64;
  c.max_position_embeddings = 32;
  return c;
}

// Titles of a toy catalog: 12 products, each written two ways by two sellers.
std::vector<std::pair<std::string, std::string>> toy_products() {
  return {{"apple iphone 13 128gb midnight", "iphone13 128 gb midnight apple"},
          {"samsung galaxy s21 256gb phantom grey", "galaxy s21 phantom grey 256 gb samsung"},
          {"sony dsc-w120 digital camera silver", "sony cybershot dscw120 silver camera"},
          {"canon eos 250d dslr body black", "eos 250d canon black body dslr"},
          {"nike air max 90 white size 42", "air max 90 nike 42 white"},
          {"lego star wars millennium falcon 75192", "75192 millennium falcon lego star wars"},
          {"dell xps 13 laptop 16gb ram", "xps13 dell 16 gb laptop"},
          {"bosch cordless drill 18v gsr", "gsr 18v bosch drill cordless"},
          {"philips hue white ambiance bulb e27", "hue e27 bulb white ambiance philips"},
          {"logitech mx master 3 wireless mouse", "mx master 3 logitech mouse wireless"},
          {"kindle paperwhite 8gb waterproof", "paperwhite kindle 8 gb waterproof"},
          {"dyson v11 cordless vacuum cleaner", "v11 dyson vacuum cordless cleaner"}};
}

class NeuralTextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(0);
    dir_ = fs::temp_directory_path() / ("doppel_neural_text_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (const auto& [a, b] : toy_products()) {
      texts_.push_back(a);
      texts_.push_back(b);
    }
    WordPieceTrainerOptions options;
    options.vocab_size = 200;
    options.min_frequency = 1;
    vocab_size_ = train_wordpiece(texts_, options).size();
    train_wordpiece(texts_, options).save(dir_ / "vocab.txt");
    save_tokenizer_config(dir_, options.tokenizer);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A random tiny model with a head over its 2 layers (16 channels, 8-d), saved in dir_.
  TextModel saved_random_model(int bottleneck) const {
    TokenCnnHeadConfig head;
    head.layers = {-2, -1};
    head.bottleneck = bottleneck;
    head.channels = 16;
    head.out_dim = 8;
    head.max_length = 32;
    TextModel model(
        tiny_config(vocab_size_), head,
        WordPieceTokenizer(Vocabulary::load(dir_ / "vocab.txt"), load_tokenizer_config(dir_)));
    model.train(false);
    model.save_bert(dir_);
    model.save_head(dir_);
    return model;
  }

  // Nine products to train on, three to validate on (a match and a non-match each).
  MatchTrainingData toy_match_data() const {
    MatchTrainingData data;
    data.texts = texts_;
    const size_t n = toy_products().size();
    for (size_t p = 0; p < n; ++p) {
      if (p < 9) {
        data.positives.emplace_back(2 * p, 2 * p + 1);
        data.negatives.emplace_back(2 * p, 2 * ((p + 1) % 9));
      } else {
        data.valid_pairs.emplace_back(2 * p, 2 * p + 1);
        data.valid_labels.push_back(1);
        data.valid_pairs.emplace_back(2 * p, 2 * ((p + 1) % n) + 1);
        data.valid_labels.push_back(0);
      }
    }
    data.valid_metric = [](std::span<const float> s, std::span<const uint8_t> labels) {
      double margin = 0;  // mean score of matches minus mean score of non-matches
      for (size_t i = 0; i < s.size(); ++i) margin += labels[i] ? s[i] : -s[i];
      return margin;
    };
    return data;
  }

  MatchOptions quick_match(int epochs) const {
    MatchOptions options;
    options.epochs = epochs;
    options.patience = 0;
    options.batch_size = 9;
    options.optimizer.lr = 3e-3;
    options.head.out_dim = 16;
    options.head.channels = 32;
    options.head.layers = {-2, -1};
    options.head.max_length = 32;
    return options;
  }

  MlmOptions quick_mlm(int64_t steps) const {
    MlmOptions o;
    o.batch_size = 8;
    o.max_length = 32;
    o.epochs = 1000;
    o.max_steps = steps;
    o.optimizer.lr = 1e-2;
    o.log_every = 10;
    o.checkpoint_every = 20;
    return o;
  }

  fs::path dir_;
  std::vector<std::string> texts_;
  int vocab_size_ = 0;
};

TEST(BertConfig, SavesHuggingFaceFieldsAndLoadsThemBack) {
  const fs::path file = fs::temp_directory_path() / "doppel_bert_config_test.json";
  BertConfig c = tiny_config(100);
  c.hidden_act = "gelu_new";
  c.save(file);
  auto json = nlohmann::json::parse(read_file(file));
  EXPECT_EQ(json["model_type"], "bert");
  EXPECT_EQ(json["hidden_size"], 32);
  EXPECT_EQ(json["num_hidden_layers"], 2);
  EXPECT_EQ(json["initializer_range"].dump(), "0.02");  // the decimal, not 0.019999999552965164
  EXPECT_EQ(json["hidden_act"], "gelu_new");
  auto back = BertConfig::load(file);
  EXPECT_EQ(back.hidden_size, 32);
  EXPECT_EQ(back.intermediate_size, 64);
  EXPECT_EQ(back.hidden_act, "gelu_new");
  fs::remove(file);
}

TEST(BertConfig, RejectsBadFilesNamingTheField) {
  const fs::path file = fs::temp_directory_path() / "doppel_bert_config_bad.json";
  auto load = [](const fs::path& p) { BertConfig::load(p); };
  expect_load_error(file, "{\"hidden_size\": 32", load, "not valid JSON");
  expect_load_error(file, R"({"vocab_size": 10, "num_hidden_layers": 1, "num_attention_heads": 2,
      "intermediate_size": 8, "max_position_embeddings": 8})", load, "hidden_size");
  expect_load_error(file, R"({"vocab_size": 10, "hidden_size": 30, "num_hidden_layers": 1,
      "num_attention_heads": 4, "intermediate_size": 8, "max_position_embeddings": 8})", load,
                    "not a multiple");
  expect_load_error(file, R"({"model_type": "roberta", "vocab_size": 10})", load, "roberta");
  fs::remove(file);
}

TEST(BertModel, ParametersCarryHuggingFaceNames) {
  BertForMaskedLM model(tiny_config(50));
  std::set<std::string> names;
  for (const auto& [name, tensor] : nn::module_state(*model)) names.insert(name);
  for (const char* expected :
       {"bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
        "bert.embeddings.token_type_embeddings.weight", "bert.embeddings.LayerNorm.weight",
        "bert.encoder.layer.0.attention.self.query.weight", "bert.encoder.layer.1.attention.self.value.bias",
        "bert.encoder.layer.0.attention.output.dense.weight",
        "bert.encoder.layer.0.attention.output.LayerNorm.bias",
        "bert.encoder.layer.1.intermediate.dense.weight", "bert.encoder.layer.1.output.dense.weight",
        "bert.encoder.layer.1.output.LayerNorm.weight", "cls.predictions.transform.dense.weight",
        "cls.predictions.transform.LayerNorm.weight", "cls.predictions.bias"}) {
    EXPECT_TRUE(names.count(expected)) << expected;
  }
  // 16 tensors per layer, 5 for the embeddings, 5 for the MLM head; the decoder is tied.
  EXPECT_EQ(names.size(), 2u * 16 + 5 + 5);
}

TEST(BertModel, PaddingDoesNotChangeTheTokensStates) {
  BertModel model(tiny_config(50));
  model->eval();
  torch::NoGradGuard no_grad;
  auto ids = torch::tensor({{2, 7, 9, 3}}, torch::kInt64);
  auto padded = torch::tensor({{2, 7, 9, 3, 0, 0}}, torch::kInt64);
  auto short_states = model(ids, torch::ones_like(ids));
  auto long_states = model(padded, torch::tensor({{1, 1, 1, 1, 0, 0}}, torch::kInt64));
  ASSERT_EQ(short_states.size(), 3u);  // embeddings + 2 layers
  EXPECT_TRUE(torch::allclose(short_states.back(), long_states.back().narrow(1, 0, 4), 1e-4, 1e-5));
}

TEST_F(NeuralTextTest, MlmLossFallsAndTheModelIsSavedInHuggingFaceLayout) {
  auto report = pretrain_mlm(dir_, texts_, quick_mlm(200), tiny_config(vocab_size_), false);
  ASSERT_GE(report.loss_curve.size(), 6u);
  const double first = report.loss_curve.front().second, last = report.loss_curve.back().second;
  EXPECT_LT(last, first * 0.7) << "loss " << first << " -> " << last;
  EXPECT_GT(report.tokens_per_second, 0);
  for (const char* file : {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json",
                           "mlm_log.json"}) {
    EXPECT_TRUE(fs::exists(dir_ / file)) << file;
  }
  auto loaded = nn::load_state_dict(dir_ / "model.safetensors");
  EXPECT_EQ(loaded.front().first.rfind("bert.", 0) == 0 || loaded.front().first.rfind("cls.", 0) == 0, true);
}

TEST_F(NeuralTextTest, MlmResumesFromItsCheckpoint) {
  pretrain_mlm(dir_, texts_, quick_mlm(20), tiny_config(vocab_size_), false);
  auto report = pretrain_mlm(dir_, texts_, quick_mlm(40), std::nullopt, /*resume=*/true);
  EXPECT_EQ(report.resumed_from_step, 20);
  EXPECT_EQ(report.steps, 40);
  fs::remove_all(dir_ / "checkpoints");
  EXPECT_THROW(pretrain_mlm(dir_, texts_, quick_mlm(40), std::nullopt, true), Error);
}

TEST_F(NeuralTextTest, LoadsABareHuggingFaceBertModelFolder) {
  // What transformers' BertModel.save_pretrained writes: no "bert." prefix, a pooler, and a
  // config with fields doppel does not use.
  BertConfig config = tiny_config(vocab_size_);
  BertModel bert(config);
  auto state = nn::module_state(*bert);
  state.emplace_back("pooler.dense.weight", torch::zeros({32, 32}));
  state.emplace_back("pooler.dense.bias", torch::zeros({32}));
  state.emplace_back("embeddings.position_ids", torch::arange(32, torch::kInt64).unsqueeze(0));
  nn::save_state_dict(dir_ / "model.safetensors", state);
  config.save(dir_ / "config.json");
  auto json = nlohmann::json::parse(read_file(dir_ / "config.json"));
  json["architectures"] = {"BertModel"};
  json["transformers_version"] = "4.40.0";
  write_file_atomic(dir_ / "config.json", json.dump());

  auto model = TextModel::load(dir_, /*require_head=*/false);
  model.train(false);
  torch::NoGradGuard no_grad;
  bert->eval();
  auto ids = torch::tensor({{2, 5, 6, 3}}, torch::kInt64);
  auto expected = bert(ids, torch::ones_like(ids)).back();
  auto got = model.mlm()->bert(ids, torch::ones_like(ids)).back();
  EXPECT_TRUE(torch::allclose(expected, got));
}

TEST_F(NeuralTextTest, TruncatedWeightsAreAnErrorNamingTheFile) {
  pretrain_mlm(dir_, texts_, quick_mlm(2), tiny_config(vocab_size_), false);
  auto bytes = read_file(dir_ / "model.safetensors");
  expect_load_error(dir_ / "model.safetensors", bytes.substr(0, bytes.size() / 2),
                    [](const fs::path& p) { TextModel::load(p.parent_path(), false); }, "model.safetensors");
}

TEST_F(NeuralTextTest, MatchTrainingPullsMatchesTogetherAndYieldsAnEncoder) {
  pretrain_mlm(dir_, texts_, quick_mlm(30), tiny_config(vocab_size_), false);
  const MatchTrainingData data = toy_match_data();
  const MatchOptions options = quick_match(25);
  auto report = train_match(dir_, data, options);
  ASSERT_EQ(report.valid_metric.size(), 25u);
  EXPECT_LT(report.train_loss.back(), report.train_loss.front());
  ASSERT_TRUE(NeuralTextEncoder::exists(dir_));

  auto encoder = NeuralTextEncoder::load(dir_, {});
  EXPECT_EQ(encoder.dim(), 16);
  EXPECT_EQ(encoder.name(), "bert-L2-H32-cnn16");
  std::vector<float> v(texts_.size() * 16);
  encoder.encode_texts(texts_, v.data());
  auto cosine = [&](size_t a, size_t b) {
    double dot = 0;
    for (size_t d = 0; d < 16; ++d) dot += v[a * 16 + d] * v[b * 16 + d];
    return dot;
  };
  for (size_t i = 0; i < texts_.size(); ++i) EXPECT_NEAR(cosine(i, i), 1.0, 1e-4);
  // Training pairs end up closer than the products they were contrasted with.
  int closer = 0;
  for (size_t p = 0; p < 9; ++p) closer += cosine(2 * p, 2 * p + 1) > cosine(2 * p, 2 * ((p + 1) % 9) + 1);
  EXPECT_GE(closer, 8);
  // Batching and order do not change a text's vector; a text without pieces is a zero row.
  std::vector<std::string> one{texts_[5], "   "};
  std::vector<float> w(2 * 16);
  encoder.encode_texts(one, w.data());
  for (size_t d = 0; d < 16; ++d) EXPECT_NEAR(w[d], v[5 * 16 + d], 1e-5);
}

TEST_F(NeuralTextTest, MatchTrainingStopsAfterPatienceEpochsWithoutABetterValidMetric) {
  pretrain_mlm(dir_, texts_, quick_mlm(5), tiny_config(vocab_size_), false);
  MatchTrainingData data = toy_match_data();
  auto calls = std::make_shared<int>(0);  // every validation scores worse than the one before
  data.valid_metric = [calls](std::span<const float>, std::span<const uint8_t>) {
    return -++*calls;
  };
  MatchOptions options = quick_match(10);
  options.patience = 2;
  const auto report = train_match(dir_, data, options);
  EXPECT_EQ(report.best_epoch, 1);
  EXPECT_EQ(report.valid_metric.size(), 3u);  // epoch 1, then two without improvement
  EXPECT_EQ(report.train_loss.size(), 3u);
}

// The trainers seed torch themselves, so the same command gives the same model whatever the
// process did before: a fresh model's weights, a new head and dropout all draw from torch's
// generator, which libtorch seeds at random in every process.
TEST_F(NeuralTextTest, PretrainingAndFineTuningAreReproducible) {
  const fs::path copy = dir_.string() + "_copy";
  fs::remove_all(copy);
  fs::copy(dir_, copy);
  auto train = [&](const fs::path& dir, uint64_t process_state) {
    torch::manual_seed(process_state);
    const auto mlm = pretrain_mlm(dir, texts_, quick_mlm(10), tiny_config(vocab_size_), false);
    torch::manual_seed(process_state + 1);
    const auto match = train_match(dir, toy_match_data(), quick_match(2));
    return std::make_pair(mlm.loss_curve, match);
  };
  const auto [mlm_a, match_a] = train(dir_, 1);
  const auto [mlm_b, match_b] = train(copy, 2);
  fs::remove_all(copy);
  EXPECT_EQ(mlm_a, mlm_b);
  EXPECT_EQ(match_a.valid_metric_before, match_b.valid_metric_before);
  EXPECT_EQ(match_a.valid_metric, match_b.valid_metric);
  EXPECT_EQ(match_a.train_loss, match_b.train_loss);
}

TEST_F(NeuralTextTest, HeadsSavedBeforeTheBottleneckStillLoad) {
  TextModel model = saved_random_model(/*bottleneck=*/0);
  // What doppel wrote before format_version 2: no bottleneck field and no bottleneck tensors.
  auto json = nlohmann::json::parse(read_file(dir_ / "encoder.json"));
  json.erase("bottleneck");
  json["format_version"] = 1;
  write_file_atomic(dir_ / "encoder.json", json.dump());
  for (const auto& [name, tensor] : nn::load_state_dict(dir_ / "head.safetensors")) {
    EXPECT_EQ(name.rfind("bottleneck", 0), std::string::npos) << name;
  }

  auto encoder = NeuralTextEncoder::load(dir_, {});
  EXPECT_EQ(encoder.head_config().bottleneck, 0);
  std::vector<float> got(texts_.size() * 8);
  encoder.encode_texts(texts_, got.data());
  std::vector<std::vector<int32_t>> tokens;
  for (const auto& text : texts_) tokens.push_back(model.tokenize(text));
  const auto expected = model.embed_all(tokens, 3).contiguous();
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected.data_ptr<float>()[i], 1e-5);

  // A file from a newer doppel, or a version 2 file without its bottleneck, names encoder.json.
  auto load = [](const fs::path& p) { NeuralTextEncoder::load(p.parent_path(), {}); };
  json["format_version"] = 3;
  expect_load_error(dir_ / "encoder.json", json.dump(), load, "format_version 3 is not supported");
  json["format_version"] = 2;
  expect_load_error(dir_ / "encoder.json", json.dump(), load, "\"bottleneck\"");
}

TEST_F(NeuralTextTest, TheBottleneckIsSavedAndLoadedBack) {
  TextModel model = saved_random_model(/*bottleneck=*/12);
  std::map<std::string, torch::Tensor> saved;
  for (auto& [name, tensor] : nn::load_state_dict(dir_ / "head.safetensors")) saved[name] = tensor;
  ASSERT_TRUE(saved.count("bottleneck.weight"));
  EXPECT_EQ(saved.at("bottleneck.weight").sizes(), (std::vector<int64_t>{12, 2 * 32}));
  EXPECT_EQ(saved.at("conv.weight").sizes(), (std::vector<int64_t>{16, 12, 3}));

  auto loaded = TextModel::load(dir_, /*require_head=*/true);
  loaded.train(false);
  EXPECT_EQ(loaded.head_config().bottleneck, 12);
  std::vector<std::vector<int32_t>> tokens;
  for (const auto& text : texts_) tokens.push_back(model.tokenize(text));
  EXPECT_TRUE(torch::allclose(loaded.embed_all(tokens, 5), model.embed_all(tokens, 5)));
}

TEST_F(NeuralTextTest, APaddedBatchGivesEachTextItsVectorAlone) {
  TextModel model = saved_random_model(/*bottleneck=*/12);
  const std::vector<std::vector<int32_t>> tokens = {model.tokenize("kindle 8gb"),
                                                    model.tokenize(texts_[2]), model.tokenize(texts_[7])};
  ASSERT_LT(tokens[0].size(), tokens[1].size());
  torch::NoGradGuard no_grad;
  const auto padded = model.embed(pad_batch(tokens, model.tokenizer().vocab().pad_id()));
  const auto alone = model.embed_all(tokens, 1);
  EXPECT_TRUE(torch::allclose(padded, alone, 1e-4, 1e-5)) << (padded - alone).abs().max();
}

}  // namespace
}  // namespace doppel

namespace doppel {
namespace {

// Fixtures written by scripts/hf_bert_interop.py with transformers 5.17 (see its docstring):
// hf_tiny is a folder transformers saved, doppel_tiny one doppel saved and transformers loaded
// without missing or unexpected weights. Each holds reference.safetensors: transformers' token
// ids for kTitles (padded), attention mask and every hidden state.
const std::vector<std::string> kTitles = {"Apple iPhone 13 128GB Midnight", "IPHONE13 128 GB siyah",
                                          "Sony DSC-W120 7.2MP digital camera (silver)",
                                          "café crème 1,5 l"};

void expect_same_as_transformers(const fs::path& folder) {
  auto model = TextModel::load(folder, /*require_head=*/false);
  model.train(false);
  std::map<std::string, torch::Tensor> reference;
  for (auto& [name, tensor] : nn::load_state_dict(folder / "reference.safetensors")) {
    reference[name] = tensor;
  }
  const auto ids = reference.at("input_ids");
  const auto mask = reference.at("attention_mask");
  for (size_t i = 0; i < kTitles.size(); ++i) {
    const auto row = static_cast<int64_t>(i);
    const int64_t length = mask[row].sum().item<int64_t>();
    auto expected = ids[row].narrow(0, 0, length);
    auto got = model.tokenize(kTitles[i]);
    ASSERT_EQ(static_cast<int64_t>(got.size()), length) << kTitles[i];
    for (int64_t t = 0; t < length; ++t) {
      EXPECT_EQ(got[static_cast<size_t>(t)], expected[t].item<int64_t>()) << kTitles[i] << " piece " << t;
    }
  }
  torch::NoGradGuard no_grad;
  auto states = model.mlm()->bert(ids, mask);
  ASSERT_EQ(states.size(), 3u);
  for (size_t layer = 0; layer < states.size(); ++layer) {
    const auto& hf = reference.at("hidden_" + std::to_string(layer));
    EXPECT_LT((states[layer] - hf).abs().max().item<float>(), 1e-4) << folder << " layer " << layer;
  }
}

TEST(HuggingFaceInterop, AFolderTransformersWroteGivesTransformersOutputs) {
  expect_same_as_transformers("tests/fixtures/bert_interop/hf_tiny");
}

TEST(HuggingFaceInterop, TransformersReadsAFolderDoppelWroteToTheSameOutputs) {
  expect_same_as_transformers("tests/fixtures/bert_interop/doppel_tiny");
}

}  // namespace
}  // namespace doppel
