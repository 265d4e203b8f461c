#include "image/image_codecs.h"

#include "util/plugin_loader.h"

namespace doppel {

namespace {

const ImageCodecs* load_codecs() {
  constexpr PluginSpec spec{
      .name = "image codecs",
      .file = "libdoppel_codecs.so",
      .purpose = "OpenCV's JPEG, PNG and WebP codecs",
      .env_var = "DOPPEL_CODECS_PLUGIN",
      .build_path = DOPPEL_CODECS_PLUGIN_BUILD_PATH,
      .abi_entry = "doppel_codecs_abi",
      .abi = kImageCodecsAbi,
  };
  return static_cast<const ImageCodecs*>(
      plugin_table(open_plugin(spec), spec, "doppel_image_codecs"));
}

}  // namespace

const ImageCodecs& image_codecs() {
  static const ImageCodecs* table = load_codecs();  // a failed load is tried again next call
  return *table;
}

}  // namespace doppel
