#include "util/plugin_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "util/error.h"

namespace doppel {

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> candidates(const PluginSpec& spec) {
  if (const char* path = std::getenv(spec.env_var); path && *path) return {path};
  std::vector<fs::path> paths;
  std::error_code error;
  const fs::path executable = fs::read_symlink("/proc/self/exe", error);
  if (!error) paths.push_back(executable.parent_path() / spec.file);
  paths.emplace_back(spec.build_path);
  return paths;
}

void* plugin_symbol(void* handle, const char* name) {
  dlerror();
  return dlsym(handle, name);
}

}  // namespace

void* open_plugin(const PluginSpec& spec) {
  std::string tried;
  for (const fs::path& path : candidates(spec)) {
    if (!fs::exists(path)) {
      tried += fmt::format("\n  {}: no such file", path.string());
      continue;
    }
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      tried += fmt::format("\n  {}: {}", path.string(), dlerror());
      continue;
    }
    auto abi = reinterpret_cast<int (*)()>(plugin_symbol(handle, spec.abi_entry));
    const int found = abi ? abi() : -1;
    if (found != spec.abi) {
      tried += fmt::format("\n  {}: built for another doppel (plugin ABI {}, this binary's {})",
                           path.string(), found, spec.abi);
      dlclose(handle);
      continue;
    }
    return handle;
  }
  fail(
      "this needs doppel's {} plugin ({}: {}), which could not be loaded:{}\n"
      "build it (`make build`) or point {} at it",
      spec.name, spec.file, spec.purpose, tried, spec.env_var);
}

void* plugin_entry(void* handle, const PluginSpec& spec, const char* name) {
  void* entry = plugin_symbol(handle, name);
  if (!entry) fail("the {} plugin has no entry {}: rebuild it with this binary", spec.name, name);
  return entry;
}

const void* plugin_table(void* handle, const PluginSpec& spec, const char* name) {
  return reinterpret_cast<const void* (*)()>(plugin_entry(handle, spec, name))();
}

}  // namespace doppel
