#include "synth/grocery_catalog.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string_view>

#include "synth/seller_text.h"
#include "util/error.h"
#include "util/files.h"
#include "util/strings.h"

namespace doppel {
namespace {

namespace fs = std::filesystem;

// ---- reading a product's texts ------------------------------------------------------------

std::vector<std::string> split_on(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in{std::string(text)};
  while (std::getline(in, part, separator)) {
    if (!trim(part).empty()) parts.push_back(trim(part));
  }
  return parts;
}

// Every line of a file, blank ones included, so that an index + 1 is a line number. The shop's
// pages put no-break spaces (U+00A0) around "BRAVO , 2l": they become plain spaces.
std::vector<std::string> lines_of(const fs::path& file) {
  std::vector<std::string> lines;
  std::istringstream in(read_file(file));
  for (std::string line; std::getline(in, line);) {
    std::string& spaced = lines.emplace_back();
    for (size_t i = 0; i < line.size(); ++i) {
      const bool no_break = line.compare(i, 2, "\xC2\xA0") == 0;
      spaced += no_break ? ' ' : line[i];
      i += no_break;
    }
  }
  return lines;
}

bool same_ascii_word(std::string_view a, std::string_view b) {
  return a.size() == b.size() && lower_case(a) == lower_case(b);
}

// The product folder's file "<Product>_<suffix>", beside the iconic image.
fs::path product_file(const GroceryDataset& data, size_t product, std::string_view suffix) {
  const fs::path& iconic = data.iconic[product];
  const std::string name = iconic.parent_path().filename().string();
  return iconic.parent_path() / (name + "_" + std::string(suffix));
}

// The value after "<key>:" on the file's first line that starts with it.
std::string field_line(const std::vector<std::string>& lines, std::string_view key,
                       const fs::path& file, size_t* line_number) {
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].starts_with(key) && lines[i].size() > key.size() && lines[i][key.size()] == ':') {
      *line_number = i + 1;
      return trim(std::string_view(lines[i]).substr(key.size() + 1));
    }
  }
  fail("{}: no '{}:' line", file.string(), key);
}

// Sentences of a description file: lines that are not links, cut after '.', '!' or '?'.
std::vector<std::string> sentences_of(const fs::path& file) {
  std::vector<std::string> sentences;
  for (const std::string& line : split_on(read_file(file), '\n')) {
    if (line.starts_with("http")) continue;
    std::string sentence;
    for (size_t i = 0; i < line.size(); ++i) {
      sentence += line[i];
      const bool end = (line[i] == '.' || line[i] == '!' || line[i] == '?') &&
                       (i + 1 == line.size() || line[i + 1] == ' ');
      if (end || i + 1 == line.size()) {
        if (!trim(sentence).empty()) sentences.push_back(trim(sentence));
        sentence.clear();
      }
    }
  }
  if (sentences.empty()) fail("{}: no description text", file.string());
  return sentences;
}

// ---- quantities ---------------------------------------------------------------------------

struct Quantity {
  double base = 0;      // millilitres or grams
  bool volume = false;  // millilitres when true, grams otherwise
};

std::optional<Quantity> parse_quantity(std::string_view text) {
  static const std::map<std::string, std::pair<double, bool>> kUnits = {
      {"l", {1000, true}}, {"dl", {100, true}},   {"cl", {10, true}},
      {"ml", {1, true}},   {"kg", {1000, false}}, {"g", {1, false}}};
  const size_t unit_start = text.find_first_not_of("0123456789.");
  if (unit_start == 0 || unit_start == std::string_view::npos) return std::nullopt;
  const auto unit = kUnits.find(lower_case(trim(text.substr(unit_start))));
  if (unit == kUnits.end()) return std::nullopt;
  try {
    return Quantity{std::stod(std::string(text.substr(0, unit_start))) * unit->second.first,
                    unit->second.second};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// "0.75" or, the Swedish way, "0,75".
std::string number(double value, bool decimal_comma) {
  std::string text = fmt::format("{}", value);
  if (decimal_comma) std::replace(text.begin(), text.end(), '.', ',');
  return text;
}

// The ways sellers write one quantity; the source's own spelling first.
std::vector<std::string> quantity_spellings(std::string_view source, const Quantity& q,
                                            bool decimal_comma) {
  const double big = q.base / 1000;  // litres or kilograms
  std::vector<std::string> out = {std::string(source)};
  if (q.volume) {
    const std::string l = number(big, decimal_comma);
    out.insert(out.end(), {l + " l", l + "L", l + " liter", fmt::format("{}ml", q.base),
                           fmt::format("{} ml", q.base), fmt::format("{}cl", q.base / 10)});
    if (q.base < 1000) out.push_back(fmt::format("{} dl", q.base / 100));
  } else {
    const std::string kg = number(big, decimal_comma);
    out.insert(out.end(), {kg + " kg", kg + "KG", fmt::format("{}g", q.base),
                           fmt::format("{} gr", q.base), fmt::format("{} g", q.base)});
  }
  return out;
}

// ---- seller titles ------------------------------------------------------------------------

// English class-name phrases and what sellers write instead (Swedish names, English synonyms),
// longest phrases first so that "Medium Fat Milk" wins over "Milk".
struct Phrase {
  std::vector<std::string_view> words;
  std::vector<std::string_view> alternatives;
};
const std::vector<Phrase>& phrases() {
  static const std::vector<Phrase> table = {
      {{"Red", "Grapefruit", "Juice"}, {"Blodgrape juice", "Röd grapefruktjuice"}},
      {{"Medium", "Fat", "Milk"}, {"Mellanmjölk", "Semi-skimmed milk", "Skimmed milk 1.5%"}},
      {{"Low", "Fat", "Yoghurt"}, {"Lättyoghurt", "Light yoghurt"}},
      {{"Standard", "Milk"}, {"Standardmjölk", "Whole milk", "Mjölk 3%"}},
      {{"Sour", "Cream"}, {"Gräddfil"}},
      {{"Sour", "Milk"}, {"Filmjölk"}},
      {{"Oat", "Milk"}, {"Havredryck", "Oat drink"}},
      {{"Soy", "Milk"}, {"Sojadryck", "Soy drink"}},
      {{"Apple", "Juice"}, {"Äppeljuice", "Äpple juice"}},
      {{"Orange", "Juice"}, {"Apelsinjuice", "Apelsin juice"}},
      {{"Red", "Grapefruit"}, {"Blodgrape", "Röd grapefrukt"}},
      {{"Grapefruit"}, {"Grape", "Grapefrukt"}},
      {{"Ecological"}, {"Ekologisk", "Eko", "Organic", "KRAV"}},
      {{"Lactose"}, {"Laktosfri", "Lactose free"}},
      {{"Oatghurt"}, {"Havregurt"}},
      {{"Soyghurt"}, {"Sojagurt"}},
      {{"Yoghurt"}, {"Yogurt", "Yoghurt"}},
      {{"Vanilla"}, {"Vanilj"}},
      {{"Strawberry"}, {"Jordgubb"}},
      {{"Blueberry"}, {"Blåbär"}},
      {{"Natural"}, {"Naturell", "Plain"}},
      {{"Fresh"}, {"Färsk"}},
      {{"Shelf"}, {"Long life", "Hållbar"}},
      {{"Milk"}, {"Mjölk"}},
      {{"Apple"}, {"Äpple"}},
      {{"Orange"}, {"Apelsin"}},
  };
  return table;
}

constexpr std::array<std::string_view, 10> kNoise = {
    "NYHET",         "New",     "Kampanj", "Best price", "Fri frakt",
    "Fast delivery", "Kylvara", "Sweden",  "Top seller", "Storsäljare"};

// Replaces each known phrase of `words` (longest first, left to right) by one of its
// alternatives with probability p.
std::vector<std::string> respell_phrases(const std::vector<std::string>& words, double p,
                                         std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::string> out;
  for (size_t i = 0; i < words.size();) {
    const Phrase* match = nullptr;
    for (const Phrase& phrase : phrases()) {
      if (i + phrase.words.size() > words.size()) continue;
      if (std::equal(phrase.words.begin(), phrase.words.end(), words.begin() + long(i))) {
        match = &phrase;
        break;
      }
    }
    if (match && u(rng) < p) {
      out.emplace_back(match->alternatives[rng() % match->alternatives.size()]);
      i += match->words.size();
    } else {
      out.push_back(words[i++]);
    }
  }
  return out;
}

struct ProductTitleParts {
  GroceryProductText text;
  Quantity quantity;  // of text.size
};

std::string join(const std::vector<std::string>& words) {
  return fmt::format("{}", fmt::join(words, " "));
}

// One seller's title of a product: docs/multimodal_benchmark.md describes each step and its
// probability; change them there too.
std::string grocery_seller_title(const ProductTitleParts& p, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  // 1. Style: A English "Brand Words Size", B the shop's Swedish title "Brand Titel Size",
  //    C product first "Words Brand Size", D English with Swedish words "Brand Ord Size".
  const double style = u(rng);
  const char kind = style < 0.35 ? 'A' : style < 0.55 ? 'B' : style < 0.75 ? 'C' : 'D';
  // 2. Product words: one descriptive word dropped (p 0.25, English styles, never the last word),
  //    then phrases respelled (p 0.2 each in A and C, 0.6 in D).
  std::vector<std::string> words = p.text.words;
  if (kind != 'B' && words.size() >= 2 && u(rng) < 0.25)
    words.erase(words.begin() + long(rng() % (words.size() - 1)));
  std::string product = kind == 'B' ? p.text.swedish_title
                                    : join(respell_phrases(words, kind == 'D' ? 0.6 : 0.2, rng));
  // 3. Brand: dropped (p 0.15), else the package's upper-case manufacturer line (p 0.2 of the
  //    rest), else the class name's spelling.
  std::string brand;
  if (u(rng) >= 0.15) brand = u(rng) < 0.2 ? p.text.manufacturer : p.text.brand;
  // 4. Size: dropped (p 0.25), else the source spelling (p 0.4) or one of the other spellings,
  //    decimals with a comma half of the time.
  std::string size;
  if (u(rng) >= 0.25) {
    const auto spellings = quantity_spellings(p.text.size, p.quantity, u(rng) < 0.5);
    size = u(rng) < 0.4 ? spellings[0] : spellings[1 + rng() % (spellings.size() - 1)];
  }
  std::vector<std::string> parts;
  if (kind == 'C') {
    parts = {product, brand, size};
  } else {
    parts = {brand, product, size};
  }
  // 5. Marketing noise (p 0.3), after the title (p 0.7) or before it.
  if (u(rng) < 0.3) {
    std::string noise(kNoise[rng() % kNoise.size()]);
    if (u(rng) < 0.7) {
      parts.push_back(std::move(noise));
    } else {
      parts.insert(parts.begin(), std::move(noise));
    }
  }
  std::erase_if(parts, [](const std::string& s) { return s.empty(); });
  std::string title = join(parts);
  // 6. Case (lower p 0.15, upper p 0.1) and one transposition typo (p 0.1).
  const double r = u(rng);
  if (r < 0.15) {
    title = lower_case(title);
  } else if (r < 0.25) {
    title = upper_case(title);
  }
  if (u(rng) < 0.1) title = transposition_typo(std::move(title), rng);
  return title;
}

ProductTitleParts title_parts(const GroceryDataset& data, size_t product) {
  ProductTitleParts parts{read_grocery_product_text(data, product), {}};
  parts.quantity = *parse_quantity(parts.text.size);  // checked by the read
  return parts;
}

std::string coarse_class(const std::string& product) {
  return product.substr(0, product.find('/'));
}

// ---- pairs --------------------------------------------------------------------------------

struct SplitListings {
  std::vector<size_t> listings;  // catalog indices of this split's listings
  std::vector<int> product;      // product of each
};

// A random element of `pool` satisfying `ok`, or nothing after 32 tries.
template <typename Ok>
std::optional<size_t> draw(const std::vector<size_t>& pool, std::mt19937_64& rng, Ok ok) {
  if (pool.empty()) return std::nullopt;
  for (int attempt = 0; attempt < 32; ++attempt) {
    const size_t candidate = pool[rng() % pool.size()];
    if (ok(candidate)) return candidate;
  }
  return std::nullopt;
}

}  // namespace

GroceryProductText read_grocery_product_text(const GroceryDataset& data, size_t product) {
  DOPPEL_CHECK(product < data.products.size(), "product {} of {}", product, data.products.size());
  GroceryProductText text;
  const std::string name = data.products[product].substr(data.products[product].find('/') + 1);
  const std::vector<std::string> class_words = split_on(name, '-');

  const fs::path info = product_file(data, product, "Information.txt");
  const std::vector<std::string> lines = lines_of(info);
  size_t line = 0;
  text.swedish_title = field_line(lines, "Title", info, &line);
  const std::vector<std::string> maker_and_volume =
      split_on(field_line(lines, "Manufacturer and volume", info, &line), ',');
  if (maker_and_volume.size() != 2 || !parse_quantity(maker_and_volume[1])) {
    fail("{}:{}: expected 'Manufacturer and volume: <maker> , <number><l|dl|cl|ml|kg|g>'",
         info.string(), line);
  }
  text.manufacturer = maker_and_volume[0];
  text.size = maker_and_volume[1];
  const std::vector<std::string> maker = split_on(maker_and_volume[0], ' ');
  size_t brand_words = 0;
  while (brand_words < std::min(maker.size(), class_words.size() - 1) &&
         same_ascii_word(maker[brand_words], class_words[brand_words]))
    ++brand_words;
  if (brand_words == 0) {
    fail("{}:{}: manufacturer '{}' does not start the product name '{}'", info.string(), line,
         maker_and_volume[0], name);
  }
  text.brand = join({class_words.begin(), class_words.begin() + long(brand_words)});
  text.words.assign(class_words.begin() + long(brand_words), class_words.end());

  text.sentences = sentences_of(product_file(data, product, "Description.txt"));
  const fs::path swedish = product_file(data, product, "Description_Swedish.txt");
  if (fs::exists(swedish)) {  // 27 of the 31 products have one
    const auto sentences = sentences_of(swedish);
    text.sentences.insert(text.sentences.end(), sentences.begin(), sentences.end());
  }
  return text;
}

SynthCatalog make_grocery_catalog(const GroceryDataset& data,
                                  const GroceryCatalogOptions& options) {
  std::vector<ProductTitleParts> parts;
  for (size_t p = 0; p < data.products.size(); ++p) parts.push_back(title_parts(data, p));
  std::mt19937_64 rng(options.seed);
  std::uniform_real_distribution<double> u(0, 1);
  SynthCatalog out;

  auto add_listing = [&](std::string id, int product, const fs::path& image, std::string title) {
    Listing l;
    l.id = std::move(id);
    l.title = std::move(title);
    const auto& text = parts[size_t(product)].text;
    // A seller copies one sentence of the maker's description (p 0.4) and fills the brand
    // field (p 0.7).
    if (u(rng) < 0.4) l.description = text.sentences[rng() % text.sentences.size()];
    if (u(rng) < 0.7) l.brand = text.brand;
    l.image = fs::absolute(image).lexically_normal().string();
    out.listings.push_back(std::move(l));
    out.product_of.push_back(data.products[size_t(product)]);
  };

  const std::array<std::tuple<const std::vector<GroceryPhoto>*, std::string_view, std::string_view>,
                   3>
      splits = {
          {{&data.train, "train", "tr"}, {&data.val, "valid", "va"}, {&data.test, "test", "te"}}};
  for (const auto& [photos, split, prefix] : splits) {
    std::vector<size_t> order(photos->size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    const size_t first = out.listings.size();
    for (size_t n = 0; n < order.size(); ++n) {
      const GroceryPhoto& photo = (*photos)[order[n]];
      add_listing(fmt::format("{}{:04}", prefix, n + 1), photo.product, photo.path,
                  grocery_seller_title(parts[size_t(photo.product)], rng));
    }
    // Pairs among this split's listings only.
    std::vector<size_t> all;
    std::map<std::string, std::vector<size_t>> of_product, of_coarse;
    for (size_t i = first; i < out.listings.size(); ++i) {
      all.push_back(i);
      of_product[out.product_of[i]].push_back(i);
      of_coarse[coarse_class(out.product_of[i])].push_back(i);
    }
    std::set<std::pair<size_t, size_t>> seen;
    auto add_pair = [&](size_t a, std::optional<size_t> b, bool match) {
      if (!b || !seen.insert(std::minmax(a, *b)).second) return;
      out.labels.push_back({out.listings[a].id, out.listings[*b].id, match, std::string(split)});
    };
    for (size_t i : all) {
      const std::string& product = out.product_of[i];
      const std::string coarse = coarse_class(product);
      for (size_t n = 0; n < options.positives_per_listing; ++n)
        add_pair(i, draw(of_product[product], rng, [&](size_t j) { return j != i; }), true);
      auto other_coarse = [&](size_t j) { return coarse_class(out.product_of[j]) != coarse; };
      for (size_t n = 0; n < options.hard_negatives_per_listing; ++n) {
        auto hard =
            draw(of_coarse[coarse], rng, [&](size_t j) { return out.product_of[j] != product; });
        add_pair(i, hard ? hard : draw(all, rng, other_coarse), false);
      }
      for (size_t n = 0; n < options.random_negatives_per_listing; ++n)
        add_pair(i, draw(all, rng, other_coarse), false);
    }
  }
  if (options.iconic_listings) {
    for (size_t p = 0; p < data.products.size(); ++p) {
      const auto& text = parts[p].text;
      std::vector<std::string> words = {text.brand};
      words.insert(words.end(), text.words.begin(), text.words.end());
      words.push_back(text.size);
      add_listing(fmt::format("ic{:02}", p + 1), int(p), data.iconic[p], join(words));
      out.listings.back().description = text.sentences.front();  // the catalogue has it all
      out.listings.back().brand = text.brand;
    }
  }
  return out;
}

}  // namespace doppel
