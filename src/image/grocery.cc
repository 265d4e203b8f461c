#include "image/grocery.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <sstream>

#include "util/error.h"
#include "util/files.h"
#include "util/strings.h"

namespace doppel {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kIconicPrefix = "/iconic-images-and-descriptions/Packages/";

std::vector<std::string> split_commas(std::string_view line) {
  std::vector<std::string> fields;
  size_t start = 0;
  for (;;) {
    const size_t comma = line.find(',', start);
    fields.push_back(trim(line.substr(start, comma - start)));
    if (comma == std::string_view::npos) return fields;
    start = comma + 1;
  }
}

std::vector<std::string> lines_of(const fs::path& path) {
  std::istringstream in(read_file(path));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

int parse_id(const std::string& text, const fs::path& file, size_t line) {
  size_t used = 0;
  int value = -1;
  try {
    value = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) fail("{}:{}: bad class id '{}'", file.string(), line, text);
  return value;
}

// "<Coarse>/<Product>" from ".../Packages/<Coarse>/<Product>/<file>", or "" when the path has
// no Packages folder right after `prefix`.
std::string product_of(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix)) return "";
  const fs::path rest(path.substr(prefix.size()));
  std::vector<std::string> parts;
  for (const auto& part : rest) parts.push_back(part.string());
  if (parts.size() != 3) return "";
  return parts[0] + "/" + parts[1];
}

void require_file(const fs::path& path, const fs::path& listed_in, size_t line) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    fail("{}:{}: image {} does not exist", listed_in.string(), line, path.string());
  }
}

void check_count(std::string_view what, size_t found, size_t expected, const fs::path& file) {
  if (found != expected) {
    fail("{}: expected {} {} (the published GroceryStoreDataset packages split), found {}",
         file.string(), expected, what, found);
  }
}

struct Timing {
  double decode_seconds = 0;
  double embed_seconds = 0;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// One embedding row per path, `batch_size` images decoded at a time.
std::vector<float> embed_paths(const std::vector<fs::path>& paths, const ImageMethod& method,
                               const GroceryEvalOptions& options, Timing& timing) {
  std::vector<float> out(paths.size() * size_t(method.dim));
  std::vector<cv::Mat> batch;
  for (size_t start = 0; start < paths.size(); start += options.batch_size) {
    const size_t n = std::min(options.batch_size, paths.size() - start);
    batch.clear();
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < n; ++i) batch.push_back(load_image(paths[start + i], options.decode));
    timing.decode_seconds += seconds_since(t0);
    const auto t1 = std::chrono::steady_clock::now();
    method.embed(batch, std::span(out).subspan(start * method.dim, n * method.dim));
    timing.embed_seconds += seconds_since(t1);
  }
  return out;
}

std::vector<fs::path> paths_of(const std::vector<GroceryPhoto>& photos) {
  std::vector<fs::path> paths;
  for (const auto& photo : photos) paths.push_back(photo.path);
  return paths;
}

std::vector<int> labels_of(const std::vector<GroceryPhoto>& photos) {
  std::vector<int> labels;
  for (const auto& photo : photos) labels.push_back(photo.product);
  return labels;
}

std::string cell(const RetrievalScores& s) {
  return fmt::format("{:.3f} / {:.3f} / {:.3f}", s.recall_at_1, s.recall_at_5,
                     s.mean_average_precision);
}

}  // namespace

GroceryDataset load_grocery(const fs::path& root) {
  GroceryDataset data;
  data.root = root;
  const fs::path classes_csv = root / "classes.csv";
  const std::vector<std::string> class_lines = lines_of(classes_csv);
  std::map<int, int> label_of_class_id;
  for (size_t i = 1; i < class_lines.size(); ++i) {  // line 1 is the header
    if (trim(class_lines[i]).empty()) continue;
    const auto fields = split_commas(class_lines[i]);
    if (fields.size() != 6) {
      fail("{}:{}: expected 6 fields, found {}", classes_csv.string(), i + 1, fields.size());
    }
    const std::string product = product_of(fields[4], kIconicPrefix);
    if (product.empty()) continue;  // fruit and vegetables: no photos in this copy
    label_of_class_id[parse_id(fields[1], classes_csv, i + 1)] = int(data.products.size());
    data.products.push_back(product);
    data.iconic.push_back(root / fs::path(fields[4]).relative_path());
    require_file(data.iconic.back(), classes_csv, i + 1);
  }
  check_count("packaged products", data.products.size(), GroceryDataset::kProducts, classes_csv);

  const std::pair<std::string, std::vector<GroceryPhoto>*> splits[] = {
      {"train", &data.train}, {"val", &data.val}, {"test", &data.test}};
  for (const auto& [split, photos] : splits) {
    const fs::path list = root / (split + ".txt");
    const std::vector<std::string> lines = lines_of(list);
    const std::string prefix = split + "/Packages/";
    for (size_t i = 0; i < lines.size(); ++i) {
      if (trim(lines[i]).empty()) continue;
      const auto fields = split_commas(lines[i]);
      if (fields.size() != 3)
        fail("{}:{}: expected 3 fields, found {}", list.string(), i + 1, fields.size());
      const std::string product = product_of(fields[0], prefix);
      if (product.empty()) continue;  // not a packaged product
      const int class_id = parse_id(fields[1], list, i + 1);
      const auto known = label_of_class_id.find(class_id);
      if (known == label_of_class_id.end() || data.products[size_t(known->second)] != product) {
        fail("{}:{}: class id {} does not name the folder {}", list.string(), i + 1, class_id,
             product);
      }
      photos->push_back({root / fields[0], known->second});
      require_file(photos->back().path, list, i + 1);
    }
  }
  check_count("train photos", data.train.size(), GroceryDataset::kTrain, root / "train.txt");
  check_count("val photos", data.val.size(), GroceryDataset::kVal, root / "val.txt");
  check_count("test photos", data.test.size(), GroceryDataset::kTest, root / "test.txt");
  return data;
}

GroceryScores evaluate_grocery(const GroceryDataset& data, const ImageMethod& method,
                               const GroceryEvalOptions& options) {
  DOPPEL_CHECK(method.dim > 0 && method.embed && method.distance, "incomplete ImageMethod '{}'",
               method.name);
  DOPPEL_CHECK(options.batch_size > 0, "batch_size {}", options.batch_size);
  Timing timing;
  const std::vector<float> test = embed_paths(paths_of(data.test), method, options, timing);
  const std::vector<float> val = embed_paths(paths_of(data.val), method, options, timing);
  const std::vector<float> iconic = embed_paths(data.iconic, method, options, timing);
  const std::vector<float> train = embed_paths(paths_of(data.train), method, options, timing);
  std::vector<int> iconic_labels(data.iconic.size());
  for (size_t i = 0; i < iconic_labels.size(); ++i) iconic_labels[i] = int(i);
  const std::vector<int> test_labels = labels_of(data.test), val_labels = labels_of(data.val),
                         train_labels = labels_of(data.train);

  const size_t dim = size_t(method.dim);
  auto row = [dim](const std::vector<float>& rows, size_t i) {
    return std::span<const float>(rows).subspan(i * dim, dim);
  };
  auto between = [&](const std::vector<float>& queries, const std::vector<float>& gallery) {
    return
        [&, dim](size_t q, size_t g) { return method.distance(row(queries, q), row(gallery, g)); };
  };
  GroceryScores s;
  s.a = retrieval_scores(between(test, test), test_labels, test_labels, /*exclude_self=*/true);
  s.b = retrieval_scores(between(test, iconic), test_labels, iconic_labels);
  s.c = retrieval_scores(between(val, test), val_labels, test_labels);
  s.b_val = retrieval_scores(between(val, iconic), val_labels, iconic_labels);
  if (!data.train.empty()) s.c_val = retrieval_scores(between(val, train), val_labels, train_labels);
  s.images = data.test.size() + data.val.size() + data.iconic.size() + data.train.size();
  auto rate = [&](double seconds) { return seconds > 0 ? double(s.images) / seconds : 0.0; };
  s.embed_images_per_second = rate(timing.embed_seconds);
  s.decode_images_per_second = rate(timing.decode_seconds);
  return s;
}

std::vector<GroceryRow> run_grocery_baselines(const fs::path& root) {
  const GroceryDataset data = load_grocery(root);
  std::vector<GroceryRow> rows;
  for (const ImageMethod& method : classical_image_methods()) {
    rows.push_back({method.name, evaluate_grocery(data, method)});
  }
  return rows;
}

std::string grocery_table_markdown(std::span<const GroceryRow> rows) {
  std::string out =
      "| method | A (R@1 / R@5 / mAP) | B | C | Bv (val) | Cv (val) | embed images/s | decode "
      "images/s |\n"
      "|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    const GroceryScores& s = r.scores;
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {:.0f} | {:.0f} |\n", r.method, cell(s.a),
                       cell(s.b), cell(s.c), cell(s.b_val), cell(s.c_val),
                       s.embed_images_per_second, s.decode_images_per_second);
  }
  return out;
}

}  // namespace doppel
