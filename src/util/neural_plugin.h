// The neural plugin, libdoppel_neural.so: doppel's libtorch code (the BERT text encoder, the
// ViT-MAE image encoder, the MLP decider and their training). The doppel binary does not link
// libtorch, whose ~290 shared libraries and operator registrations cost every process about half
// a second before main; the first call that needs a neural model loads the plugin instead
// (docs/decisions.md, "Neural models in a plugin").
//
// The plugin exports C functions, each returning a table of function pointers that a module
// declares in its own header (decide/mlp_model.h, pipeline/neural_plugin.h); the functions in a
// table take and return doppel's own types, so the plugin is built from the same tree as the
// binary that loads it (kNeuralPluginAbi guards against an older plugin left beside a newer
// binary).
#pragma once

namespace doppel {

// Raised whenever a table's layout changes.
inline constexpr int kNeuralPluginAbi = 1;

// The table returned by the plugin's entry `name`; the plugin is loaded on the first call (thread
// safe). Looked for at $DOPPEL_NEURAL_PLUGIN when set, else beside the running executable, then
// where the build wrote it (util/plugin_loader.h). Error naming the places tried (with the
// loader's reason), or the missing entry.
template <typename Table>
const Table& neural_plugin_table(const char* name);

// Torch's intra-op thread count: remembered and applied to the plugin once it is loaded (at once
// when it already is). 0, the default, leaves torch's own choice.
void set_neural_threads(int threads);
int neural_threads();  // as set; 0 when never set

namespace detail {
const void* neural_plugin_entry(const char* name);
}  // namespace detail

template <typename Table>
const Table& neural_plugin_table(const char* name) {
  return *static_cast<const Table*>(detail::neural_plugin_entry(name));
}

}  // namespace doppel
