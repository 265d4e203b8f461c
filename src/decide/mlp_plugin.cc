#include "decide/mlp_model.h"
#include "util/neural_plugin.h"

namespace doppel {

const MlpPlugin& mlp_plugin() { return neural_plugin_table<MlpPlugin>("doppel_mlp_plugin"); }

}  // namespace doppel
