// Loading the neural plugin: what a user sees when it is missing or from another build. Loading
// the real plugin is covered wherever a neural model runs (decide_test's MLP, the CLI tests).
#include "util/neural_plugin.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "util/error.h"

namespace doppel {
namespace {

struct Table {};

// The message of the Error that asking for a table with the plugin at `path` raises.
std::string load_error(const char* path) {
  setenv("DOPPEL_NEURAL_PLUGIN", path, 1);
  try {
    neural_plugin_table<Table>("doppel_neural_plugin");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(NeuralPlugin, AMissingPluginNamesWhereItWasLookedFor) {
  const std::string message = load_error("/nonexistent/libdoppel_neural.so");
  EXPECT_NE(message.find("could not be loaded"), std::string::npos) << message;
  EXPECT_NE(message.find("/nonexistent/libdoppel_neural.so: no such file"), std::string::npos)
      << message;
  EXPECT_NE(message.find("DOPPEL_NEURAL_PLUGIN"), std::string::npos) << message;
}

TEST(NeuralPlugin, AFileThatIsNoSharedObjectGivesTheLoadersReason) {
  const std::string message = load_error(__FILE__);
  EXPECT_NE(message.find(std::string(__FILE__) + ": "), std::string::npos) << message;
  EXPECT_NE(message.find("ELF"), std::string::npos) << message;
}

TEST(NeuralPlugin, APluginOfAnotherBuildIsRefused) {
  const std::string message = load_error(FAKE_NEURAL_PLUGIN);
  EXPECT_NE(
      message.find("built for another doppel (plugin ABI " + std::to_string(kNeuralPluginAbi + 1) +
                   ", this binary's " + std::to_string(kNeuralPluginAbi) + ")"),
      std::string::npos)
      << message;
}

TEST(NeuralPlugin, ThreadsAreRememberedWithoutLoadingIt) {
  setenv("DOPPEL_NEURAL_PLUGIN", "/nonexistent/libdoppel_neural.so", 1);
  EXPECT_EQ(neural_threads(), 0);
  set_neural_threads(3);
  EXPECT_EQ(neural_threads(), 3);
}

}  // namespace
}  // namespace doppel
