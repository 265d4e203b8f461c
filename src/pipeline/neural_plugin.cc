#include "pipeline/neural_plugin.h"

#include "util/neural_plugin.h"

namespace doppel {

const NeuralPlugin& neural_plugin() {
  return neural_plugin_table<NeuralPlugin>("doppel_neural_plugin");
}

}  // namespace doppel
