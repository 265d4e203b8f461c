#include "synth/catalog_synth.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "image/image_io.h"
#include "synth/seller_text.h"
#include "util/csv_write.h"
#include "util/error.h"
#include "util/files.h"
#include "util/hash.h"

namespace doppel {
namespace {

struct ProductLine {
  std::string_view brand;
  std::string_view name;                // product line, e.g. "Galaxy S21"
  std::string_view kind;                // generic noun sellers add, e.g. "Smartphone"
  std::string_view code_prefix;         // model code stem, e.g. "SM-G99"
  std::vector<std::string_view> sizes;  // capacity/size variants, in canonical spelling
  double base_price;
};

const std::vector<ProductLine>& product_lines() {
  static const std::vector<ProductLine> lines = {
      {"Apple", "iPhone 13", "Smartphone", "MLP", {"128GB", "256GB", "512GB"}, 799},
      {"Apple", "iPad Air", "Tablet", "MM9", {"64GB", "256GB"}, 599},
      {"Samsung", "Galaxy S21", "Smartphone", "SM-G99", {"128GB", "256GB"}, 699},
      {"Samsung", "Galaxy Tab A8", "Tablet", "SM-X20", {"32GB", "64GB"}, 229},
      {"Xiaomi", "Redmi Note 11", "Smartphone", "2201117", {"64GB", "128GB"}, 199},
      {"Sony", "Cyber-shot", "Digital Camera", "DSC-W", {"20.1MP", "16.1MP"}, 179},
      {"Canon", "PowerShot", "Digital Camera", "PS-SX", {"20MP", "16MP"}, 249},
      {"Sony", "WH-1000XM4", "Wireless Headphones", "WH-1000XM", {"30h"}, 349},
      {"Bose", "QuietComfort", "Headphones", "QC-", {"35", "45"}, 329},
      {"LG", "OLED evo", "Smart TV", "OLED", {"55in", "65in", "77in"}, 1499},
      {"Samsung", "Crystal UHD", "Smart TV", "UE", {"43in", "50in", "55in"}, 449},
      {"Lenovo", "IdeaPad 5", "Laptop", "82SG", {"8GB 256GB", "16GB 512GB"}, 749},
      {"Dell", "Inspiron 15", "Laptop", "I3520-", {"8GB 512GB", "16GB 1TB"}, 649},
      {"HP", "LaserJet Pro", "Laser Printer", "M404", {"38ppm"}, 289},
      {"SanDisk", "Ultra microSDXC", "Memory Card", "SDSQUA4-", {"64GB", "128GB", "256GB"}, 19},
      {"Logitech", "MX Master", "Wireless Mouse", "910-00", {"3S"}, 99},
      {"Philips", "Sonicare", "Electric Toothbrush", "HX68", {"2-pack"}, 89},
      {"Nescafe", "Gold Blend", "Instant Coffee", "NG", {"100g", "200g"}, 7},
      {"Alpro", "Soya Drink", "Plant Milk", "AL", {"1L", "250ml"}, 2},
      {"Tropicana", "Orange Juice", "Juice", "TR", {"1L", "1.5L"}, 3},
  };
  return lines;
}

struct Colour {
  std::string_view en, tr, de;
};
constexpr std::array<Colour, 6> kColours = {{{"Black", "siyah", "schwarz"},
                                             {"White", "beyaz", "weiss"},
                                             {"Blue", "mavi", "blau"},
                                             {"Red", "kirmizi", "rot"},
                                             {"Silver", "gumus", "silber"},
                                             {"Midnight", "gece yarisi", "mitternacht"}}};
constexpr std::array<std::string_view, 8> kNoise = {
    "NEW", "Original", "Free Shipping", "2024", "Fast Delivery", "Genuine", "Sealed", "Warranty"};

struct Product {
  std::string id;
  const ProductLine* line;
  std::string name;  // the line's name, with its generation after the first
  std::string size;
  const Colour* colour;  // nullptr for products without colour variants
  std::string code;
  double price;
};

// "128GB" -> "128 GB" / "128gb" / "128 Gb": sellers disagree on unit spelling.
std::string respell_units(const std::string& size, std::mt19937_64& rng) {
  std::string digits, unit;
  for (char c : size)
    (std::isdigit(static_cast<unsigned char>(c)) || c == '.' ? digits : unit) += c;
  if (digits.empty() || unit.empty() || unit.find(' ') != std::string::npos) return size;
  switch (rng() % 3) {
    case 0:
      return digits + " " + unit;
    case 1:
      return digits + lower_case(unit);
    default:
      return size;
  }
}

std::string seller_title(const Product& p, int seller, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::string> words;
  bool first_seller = seller == 0;
  if (first_seller || u(rng) < 0.75) words.emplace_back(p.line->brand);
  words.push_back(p.name);
  std::string code = p.code;
  if (!first_seller && u(rng) < 0.4)
    code.erase(std::remove(code.begin(), code.end(), '-'), code.end());
  if (first_seller || u(rng) < 0.6) words.push_back(code);
  words.push_back(first_seller ? p.size : respell_units(p.size, rng));
  if (p.colour) {
    double r = u(rng);
    words.emplace_back(first_seller || r < 0.6 ? p.colour->en
                                               : (r < 0.8 ? p.colour->tr : p.colour->de));
  }
  if (first_seller || u(rng) < 0.5) words.emplace_back(p.line->kind);
  if (!first_seller && u(rng) < 0.3) std::swap(words[words.size() - 1], words[words.size() - 2]);
  if (!first_seller && u(rng) < 0.4) words.emplace_back(kNoise[rng() % kNoise.size()]);
  std::string title = fmt::format("{}", fmt::join(words, " "));
  if (!first_seller) {
    double r = u(rng);
    if (r < 0.15)
      title = lower_case(title);
    else if (r < 0.25)
      title = upper_case(title);
    if (u(rng) < 0.15) title = transposition_typo(std::move(title), rng);
  }
  return title;
}

}  // namespace

SynthCatalog synthesize_catalog(const SynthOptions& options) {
  DOPPEL_CHECK(options.products > 0, "products must be positive, got {}", options.products);
  DOPPEL_CHECK(options.max_listings_per_product >= 1, "max_listings_per_product {}",
               options.max_listings_per_product);
  std::mt19937_64 rng(options.seed);
  std::uniform_real_distribution<double> u(0, 1);
  const auto& lines = product_lines();

  // Distinct products: (line, size, colour) without repeats, each with its own model code.
  std::vector<Product> products;
  std::set<std::tuple<size_t, size_t, int>> seen;
  for (size_t attempts = 0; products.size() < options.products; ++attempts) {
    size_t li = rng() % lines.size();
    const auto& line = lines[li];
    size_t si = rng() % line.sizes.size();
    bool coloured = line.base_price > 50;
    int ci = coloured ? static_cast<int>(rng() % kColours.size()) : -1;
    int series = static_cast<int>(attempts /
                                  (lines.size() * 8));  // new model generations once combos run out
    if (!seen.insert({li, si + 100 * series, ci}).second) continue;
    Product p;
    p.id = fmt::format("p{:05}", products.size());
    p.line = &line;
    p.name = series == 0 ? std::string(line.name) : fmt::format("{} Gen {}", line.name, series + 1);
    p.size = std::string(line.sizes[si]);
    p.colour = coloured ? &kColours[ci] : nullptr;
    p.code = fmt::format("{}{}{}", line.code_prefix, 10 + series * 7 + si * 3,
                         ci >= 0 ? "ABCDEF"[ci] : 'X');
    p.price = line.base_price * (1.0 + 0.35 * si) * (1.0 + 0.1 * series);
    products.push_back(std::move(p));
  }

  SynthCatalog out;
  std::vector<std::vector<size_t>> listings_of(products.size());
  for (size_t pi = 0; pi < products.size(); ++pi) {
    size_t copies = 1;
    if (u(rng) < options.duplicate_rate)
      copies = 2 + rng() % std::max<size_t>(1, options.max_listings_per_product - 1);
    copies = std::min(copies, options.max_listings_per_product);
    for (size_t s = 0; s < copies; ++s) {
      Listing l;
      l.id = fmt::format("L{:06}", out.listings.size());
      l.title = seller_title(products[pi], static_cast<int>(s), rng);
      if (u(rng) < 0.8) l.brand = std::string(products[pi].line->brand);
      if (u(rng) < 0.9) l.price = std::round(products[pi].price * (0.9 + 0.2 * u(rng)) * 100) / 100;
      listings_of[pi].push_back(out.listings.size());
      out.listings.push_back(std::move(l));
      out.product_of.push_back(products[pi].id);
      const Product& p = products[pi];
      out.looks.push_back({std::string(p.line->brand), p.name, std::string(p.line->kind), p.size,
                           p.colour ? std::string(p.colour->en) : ""});
    }
  }
  // Labelled pairs, split by product so no product leaks between train, valid and test.
  auto split_of = [&](size_t pi) {
    uint64_t h = (pi * 0x9E3779B97F4A7C15ull) ^ options.seed;
    h ^= h >> 31;
    int r = static_cast<int>(h % 10);
    return r < 6 ? "train" : (r < 8 ? "valid" : "test");
  };
  std::map<const ProductLine*, std::vector<size_t>> products_of_line;
  for (size_t pi = 0; pi < products.size(); ++pi) products_of_line[products[pi].line].push_back(pi);
  for (size_t pi = 0; pi < products.size(); ++pi) {
    const auto& own = listings_of[pi];
    const std::string split = split_of(pi);
    for (size_t i = 0; i < own.size(); ++i)
      for (size_t j = i + 1; j < own.size(); ++j)
        out.labels.push_back({out.listings[own[i]].id, out.listings[own[j]].id, true, split});
    // Negatives are mostly what a vector index returns next to a listing: sibling variants of
    // the same line (another capacity, colour or generation), so that the decider and its
    // threshold learn the hard cases; one in three is any other product of the split, so that
    // unrelated pairs are represented too.
    std::vector<size_t> siblings;
    for (size_t other : products_of_line[products[pi].line])
      if (other != pi && split_of(other) == split) siblings.push_back(other);
    auto unrelated = [&]() -> std::optional<size_t> {
      for (int attempt = 0; attempt < 16; ++attempt) {
        size_t other = rng() % products.size();
        if (split_of(other) == split && products[other].line != products[pi].line) return other;
      }
      return std::nullopt;
    };
    for (size_t i : own) {
      for (size_t n = 0; n < options.negatives_per_listing; ++n) {
        std::optional<size_t> other;
        if (n % 3 == 2 || siblings.empty())
          other = unrelated();
        else
          other = siblings[rng() % siblings.size()];
        if (!other) continue;
        size_t lo = listings_of[*other][rng() % listings_of[*other].size()];
        out.labels.push_back({out.listings[i].id, out.listings[lo].id, false, split});
      }
    }
  }
  return out;
}

void write_synth_images(SynthCatalog& catalog, const std::filesystem::path& dir,
                        const SynthImageOptions& options) {
  DOPPEL_CHECK(catalog.looks.size() == catalog.listings.size(), "{} looks for {} listings",
               catalog.looks.size(), catalog.listings.size());
  const std::filesystem::path images = dir / "images";
  std::filesystem::create_directories(images);
  // Per product: its packshot, then its listings' photos. Products are independent, so they
  // run in parallel, and only one packshot per thread is alive (100k listings of 45k products
  // would otherwise hold 3.5 GB of packshots).
  std::map<std::string, size_t> product_index;
  std::vector<std::vector<size_t>> listings_of;
  for (size_t i = 0; i < catalog.listings.size(); ++i) {
    const auto [it, added] = product_index.emplace(catalog.product_of[i], listings_of.size());
    if (added) listings_of.emplace_back();
    listings_of[it->second].push_back(i);
  }
  std::vector<std::string> errors(catalog.listings.size());
  require_image_codecs();  // here, as an Error cannot leave the parallel loop
#pragma omp parallel for schedule(dynamic, 16)
  for (size_t p = 0; p < listings_of.size(); ++p) {
    const cv::Mat packshot = render_packshot(catalog.looks[listings_of[p].front()], options.side);
    for (size_t i : listings_of[p]) {
      Listing& l = catalog.listings[i];
      const auto jpeg = seller_photo_jpeg(packshot, fnv1a64(l.id, options.seed));
      const std::string relative = "images/" + l.id + ".jpg";
      std::ofstream file(dir / relative, std::ios::binary);
      file.write(reinterpret_cast<const char*>(jpeg.data()), std::streamsize(jpeg.size()));
      if (!file.flush()) errors[i] = (dir / relative).string();
      l.image = relative;
    }
  }
  for (const std::string& path : errors)
    if (!path.empty()) fail("{}: cannot write the image", path);
}

void write_synth_catalog(const SynthCatalog& catalog, const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  auto listings = create_file(dir / "listings.csv");
  listings << "id,title,description,brand,price,image\n";
  for (const auto& l : catalog.listings)
    listings << fmt::format("{},{},{},{},{},{}\n", l.id, csv_field(l.title),
                            csv_field(l.description), csv_field(l.brand),
                            l.price ? fmt::format("{:.2f}", *l.price) : "", csv_field(l.image));
  auto pairs = create_file(dir / "pairs.csv");
  pairs << "id_a,id_b,label,split\n";
  for (const auto& p : catalog.labels)
    pairs << fmt::format("{},{},{},{}\n", p.id_a, p.id_b, p.match ? 1 : 0, p.split);
  write_clusters(catalog, dir / "clusters.csv");
}

void write_clusters(const SynthCatalog& catalog, const std::filesystem::path& file,
                    const std::function<bool(size_t)>& keep) {
  auto clusters = create_file(file);
  clusters << "id,cluster_id\n";
  for (size_t i = 0; i < catalog.listings.size(); ++i) {
    if (keep && !keep(i)) continue;
    clusters << fmt::format("{},{}\n", csv_field(catalog.listings[i].id),
                            csv_field(catalog.product_of[i]));
  }
}

}  // namespace doppel
