#include "util/neural_plugin.h"

#include <mutex>

#include "util/plugin_loader.h"

namespace doppel {

namespace {

constexpr PluginSpec kSpec{
    .name = "neural",
    .file = "libdoppel_neural.so",
    .purpose = "libtorch models",
    .env_var = "DOPPEL_NEURAL_PLUGIN",
    .build_path = DOPPEL_NEURAL_PLUGIN_BUILD_PATH,
    .abi_entry = "doppel_neural_abi",
    .abi = kNeuralPluginAbi,
};

std::mutex plugin_mutex;
void* plugin = nullptr;  // the dlopen handle, once loaded
int torch_threads = 0;

void apply_threads(void* handle, int threads) {
  if (threads <= 0) return;
  void* set_threads = plugin_entry(handle, kSpec, "doppel_neural_set_threads");
  reinterpret_cast<void (*)(int)>(set_threads)(threads);
}

}  // namespace

namespace detail {

const void* neural_plugin_entry(const char* name) {
  std::lock_guard lock(plugin_mutex);
  if (!plugin) {
    plugin = open_plugin(kSpec);
    apply_threads(plugin, torch_threads);
  }
  return plugin_table(plugin, kSpec, name);
}

}  // namespace detail

void set_neural_threads(int threads) {
  std::lock_guard lock(plugin_mutex);
  torch_threads = threads;
  if (plugin) apply_threads(plugin, threads);
}

int neural_threads() {
  std::lock_guard lock(plugin_mutex);
  return torch_threads;
}

}  // namespace doppel
