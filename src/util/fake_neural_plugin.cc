// A stand-in for libdoppel_neural.so built for another doppel: right entries, wrong ABI
// (neural_plugin_test.cc).
#include "util/neural_plugin.h"

extern "C" {

int doppel_neural_abi() { return doppel::kNeuralPluginAbi + 1; }

void doppel_neural_set_threads(int) {}

}  // extern "C"
