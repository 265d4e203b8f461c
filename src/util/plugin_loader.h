// Opening doppel's plugins: shared objects that the doppel binary loads on the first call that
// needs them instead of linking them, so that a command pays only for the libraries it uses
// (docs/decisions.md, "Neural models in a plugin" and "Image codecs in a plugin"). Each plugin
// exports C functions: one returning the ABI number it was built with, others returning tables of
// function pointers declared in the module that uses them.
#pragma once

namespace doppel {

struct PluginSpec {
  const char* name;        // "neural", for messages
  const char* file;        // "libdoppel_neural.so"
  const char* purpose;     // "libtorch models": what the plugin is for, for messages
  const char* env_var;     // "DOPPEL_NEURAL_PLUGIN": when set, the one path tried
  const char* build_path;  // where the build writes it
  const char* abi_entry;   // "doppel_neural_abi", an `int (*)()`
  int abi;                 // the number this binary expects
};

// Opens the plugin at $env_var when it is set, else the first that loads of `file` beside the
// running executable and build_path. Error naming every place tried with the reason it failed (no
// such file, the dynamic loader's message, or an ABI number other than spec.abi).
void* open_plugin(const PluginSpec& spec);

// The plugin's exported function `name`: Error when it has none (a plugin of another build).
void* plugin_entry(void* handle, const PluginSpec& spec, const char* name);

// What the plugin's entry `name`, a `const void* (*)()`, returns.
const void* plugin_table(void* handle, const PluginSpec& spec, const char* name);

}  // namespace doppel
