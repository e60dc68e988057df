// libFuzzer target: flow definitions (SPEC §2), as `flow create` and
// `flow validate` read them. Any bytes must give a model or errors, never a
// crash, a hang or unbounded memory.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "flows/flow.hpp"
#include "flows/flow_diagram.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto parsed = orca::parse_flow(text);
  if (parsed.model) {
    // What orcactl does with a valid flow: draw it.
    orca::render_diagram(*parsed.model, orca::diagram_format::dot);
    orca::render_diagram(*parsed.model, orca::diagram_format::mermaid);
  }
  return 0;
}
