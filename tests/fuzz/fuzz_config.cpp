// libFuzzer target: node config files (SPEC §3, §8), as orcad --config
// reads them.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/node_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  orca::node_config::parse(text, "fuzzed config");
  return 0;
}
