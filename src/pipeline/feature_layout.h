// FeatureLayout — which columns the decider sees for a pair, so that one featurizer serves the
// classical decider, the four-vector multimodal decider and every ablation in between. Columns,
// in this order:
//
//   pair      the classical pair features (decide/pair_features.h), whose first column,
//             vector_cosine, is the cosine of the two text vectors
//   text      vector_cosine alone, when `pair` is off
//   classical classical_cosine: the cosine of the two listings' classical TF-IDF-PCA vectors
//             (text/classical_encoder.h), for a catalog whose text vectors come from the neural
//             encoder, so the decider weighs the neural cosine beside the classical one instead
//             of in its place
//   image     image_cosine (NaN unless both listings have an image vector) and images_present
//             (0, 1 or 2 listings with an image vector: a missing photo is information, not an
//             error)
//   blocks    the symmetric vector representation per enabled modality: |a−b| and a∘b,
//             element-wise (text_absdiff_<i>, text_product_<i>, then image_absdiff_<i>,
//             image_product_<i>); missing vectors give NaN
//
// Every column is symmetric in the two listings. The layout is not stored separately: a decider
// saves its feature names, and from_names() reads the layout back from them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace doppel {

struct FeatureLayout {
  bool pair = true;
  bool text = true;   // always true with `pair` (its vector_cosine is the text cosine)
  bool classical = false;
  bool image = false;
  bool blocks = false;
  int text_dim = 0;   // dims of the text vectors (blocks only)
  int image_dim = 0;  // dims of the image vectors (blocks only)

  int width() const;
  std::vector<std::string> names() const;
  // Error naming the field when nothing is selected, `pair` without `text`, or blocks lack their
  // dims.
  void validate() const;

  // The layout whose names() equal `names`; Error (naming `where`, e.g. the decider folder) when
  // they are not a layout this build writes.
  static FeatureLayout from_names(const std::vector<std::string>& names, std::string_view where);
  // "pair,text,image,blocks" (any subset, any order) -> layout; dims are left 0. Error naming an
  // unknown group.
  static FeatureLayout parse(std::string_view groups);
  std::string groups() const;  // the inverse of parse()
};

}  // namespace doppel
