#include "image/patch_selection.h"

#include <algorithm>
#include <numeric>

#include "image/image_io.h"
#include "util/error.h"

namespace doppel {
namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// `count` distinct values of `pool` in draw order (a partial Fisher-Yates shuffle).
std::vector<int> draw_distinct(std::vector<int> pool, int count, uint64_t seed) {
  uint64_t state = seed;
  for (size_t i = 0; i < size_t(count); ++i) {
    const size_t j = i + splitmix64(state) % (pool.size() - i);
    std::swap(pool[i], pool[j]);
  }
  pool.resize(size_t(count));
  return pool;
}

void check_image(const cv::Mat& rgb) {
  DOPPEL_CHECK(!rgb.empty() && rgb.type() == CV_8UC3,
               "expected a non-empty RGB CV_8UC3 image, got "
               "{}×{} of type {}",
               rgb.cols, rgb.rows, rgb.type());
}

// Distinct cells in [0, cell_count), none of them the centre; `what` names them in errors.
void check_other_cells(std::span<const int> cells, const PatchSelectionOptions& o,
                       std::string_view what) {
  if (int(cells.size()) != o.random_cells) {
    fail("{}: {} cells given, random_cells is {}", what, cells.size(), o.random_cells);
  }
  for (size_t i = 0; i < cells.size(); ++i) {
    if (cells[i] < 0 || cells[i] >= o.cell_count() || cells[i] == o.center_cell()) {
      fail("{}: cell {} is not a non-centre cell of a {}×{} grid", what, cells[i], o.grid, o.grid);
    }
    if (std::find(cells.begin(), cells.begin() + i, cells[i]) != cells.begin() + i) {
      fail("{}: cell {} given twice", what, cells[i]);
    }
  }
}

// The centred square resized to grid × cell_size, and cell views cut from it.
class CellGrid {
 public:
  CellGrid(const cv::Mat& rgb, const PatchSelectionOptions& o)
      : image_(resize_square(center_square(rgb), o.grid * o.cell_size)),
        grid_(o.grid),
        cell_size_(o.cell_size) {}

  cv::Mat cell(int index) const {
    const int row = index / grid_, col = index % grid_;
    return image_(cv::Rect(col * cell_size_, row * cell_size_, cell_size_, cell_size_)).clone();
  }

 private:
  cv::Mat image_;
  int grid_;
  int cell_size_;
};

PatchSelection cells_and_whole(const cv::Mat& rgb, const PatchSelectionOptions& o,
                               std::vector<int> cells) {
  const CellGrid grid(rgb, o);
  PatchSelection s;
  s.cells = std::move(cells);
  for (int cell : s.cells) s.views.push_back(grid.cell(cell));
  s.views.push_back(resize_letterbox(rgb, o.cell_size, o.fill));
  return s;
}

}  // namespace

void PatchSelectionOptions::validate() const {
  if (cell_size < 1) fail("PatchSelectionOptions.cell_size must be >= 1, got {}", cell_size);
  if (grid < 3 || grid % 2 == 0)
    fail("PatchSelectionOptions.grid must be odd and >= 3, got {}", grid);
  if (random_cells < 0 || random_cells > cell_count() - 1) {
    fail("PatchSelectionOptions.random_cells must be in [0, {}], got {}", cell_count() - 1,
         random_cells);
  }
  check_other_cells(inference_cells, *this, "PatchSelectionOptions.inference_cells");
}

PatchSelection select_patches_with(const cv::Mat& rgb, const PatchSelectionOptions& options,
                                   std::span<const int> other_cells) {
  options.validate();
  check_image(rgb);
  check_other_cells(other_cells, options, "select_patches");
  std::vector<int> cells = {options.center_cell()};
  cells.insert(cells.end(), other_cells.begin(), other_cells.end());
  return cells_and_whole(rgb, options, std::move(cells));
}

PatchSelection select_patches(const cv::Mat& rgb, const PatchSelectionOptions& options,
                              uint64_t seed) {
  options.validate();
  std::vector<int> pool;
  for (int cell = 0; cell < options.cell_count(); ++cell) {
    if (cell != options.center_cell()) pool.push_back(cell);
  }
  return select_patches_with(rgb, options,
                             draw_distinct(std::move(pool), options.random_cells, seed));
}

PatchSelection select_patches(const cv::Mat& rgb, const PatchSelectionOptions& options) {
  return select_patches_with(rgb, options, options.inference_cells);
}

cv::Mat full_image_view(const cv::Mat& rgb, int size, cv::Scalar fill) {
  check_image(rgb);
  return resize_letterbox(rgb, size, fill);
}

PatchSelection random_patches(const cv::Mat& rgb, const PatchSelectionOptions& options, int count,
                              uint64_t seed) {
  options.validate();
  check_image(rgb);
  if (count < 1 || count > options.cell_count()) {
    fail("random_patches: count must be in [1, {}], got {}", options.cell_count(), count);
  }
  std::vector<int> pool(size_t(options.cell_count()));
  std::iota(pool.begin(), pool.end(), 0);
  const CellGrid grid(rgb, options);
  PatchSelection s;
  s.cells = draw_distinct(std::move(pool), count, seed);
  for (int cell : s.cells) s.views.push_back(grid.cell(cell));
  return s;
}

void to_chw_float(const cv::Mat& rgb, std::span<float> out, const Normalization& norm) {
  check_image(rgb);
  const size_t plane = size_t(rgb.rows) * rgb.cols;
  DOPPEL_CHECK(out.size() == 3 * plane, "output holds {} floats, the {}×{} image needs {}",
               out.size(), rgb.cols, rgb.rows, 3 * plane);
  std::array<float, 3> scale, bias;
  for (int c = 0; c < 3; ++c) {
    scale[c] = 1.0f / (255.0f * norm.std[c]);
    bias[c] = -norm.mean[c] / norm.std[c];
  }
  size_t i = 0;
  for (int y = 0; y < rgb.rows; ++y) {
    const uint8_t* row = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < rgb.cols; ++x, ++i) {
      for (int c = 0; c < 3; ++c) out[c * plane + i] = row[3 * x + c] * scale[c] + bias[c];
    }
  }
}

void views_to_chw_float(std::span<const cv::Mat> views, std::span<float> out,
                        const Normalization& norm) {
  size_t offset = 0;
  for (const cv::Mat& view : views) {
    const size_t n = 3 * size_t(view.rows) * view.cols;
    DOPPEL_CHECK(offset + n <= out.size(), "output holds {} floats, the views need more",
                 out.size());
    to_chw_float(view, out.subspan(offset, n), norm);
    offset += n;
  }
  DOPPEL_CHECK(offset == out.size(), "output holds {} floats, the views fill {}", out.size(),
               offset);
}

}  // namespace doppel
