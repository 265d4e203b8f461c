#include "util/neural_plugin.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "util/error.h"

namespace doppel {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPluginFile = "libdoppel_neural.so";

std::mutex plugin_mutex;
void* plugin = nullptr;  // the dlopen handle, once loaded
int torch_threads = 0;

std::vector<fs::path> plugin_candidates() {
  if (const char* path = std::getenv("DOPPEL_NEURAL_PLUGIN"); path && *path) return {path};
  std::vector<fs::path> paths;
  std::error_code error;
  const fs::path executable = fs::read_symlink("/proc/self/exe", error);
  if (!error) paths.push_back(executable.parent_path() / kPluginFile);
  paths.emplace_back(DOPPEL_NEURAL_PLUGIN_BUILD_PATH);
  return paths;
}

void* symbol(void* handle, const char* name) {
  dlerror();
  return dlsym(handle, name);
}

void apply_threads(void* handle, int threads) {
  if (threads <= 0) return;
  reinterpret_cast<void (*)(int)>(symbol(handle, "doppel_neural_set_threads"))(threads);
}

// Loads the plugin (plugin_mutex held); Error naming every place tried and why it failed.
void* load_plugin() {
  std::string tried;
  for (const fs::path& path : plugin_candidates()) {
    if (!fs::exists(path)) {
      tried += fmt::format("\n  {}: no such file", path.string());
      continue;
    }
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      tried += fmt::format("\n  {}: {}", path.string(), dlerror());
      continue;
    }
    auto abi = reinterpret_cast<int (*)()>(symbol(handle, "doppel_neural_abi"));
    const int found = abi ? abi() : -1;
    if (found != kNeuralPluginAbi || !symbol(handle, "doppel_neural_set_threads")) {
      tried += fmt::format("\n  {}: built for another doppel (plugin ABI {}, this binary's {})",
                           path.string(), found, kNeuralPluginAbi);
      dlclose(handle);
      continue;
    }
    apply_threads(handle, torch_threads);
    return handle;
  }
  fail(
      "this needs doppel's neural plugin ({}: libtorch models), which could not be loaded:{}\n"
      "build it (`make build`) or point DOPPEL_NEURAL_PLUGIN at it",
      kPluginFile, tried);
}

}  // namespace

namespace detail {

const void* neural_plugin_entry(const char* name) {
  std::lock_guard lock(plugin_mutex);
  if (!plugin) plugin = load_plugin();
  auto entry = reinterpret_cast<const void* (*)()>(symbol(plugin, name));
  if (!entry) fail("the neural plugin has no entry {}: rebuild it with this binary", name);
  return entry();
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
