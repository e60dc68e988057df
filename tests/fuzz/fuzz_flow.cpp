// libFuzzer target: flow definitions (SPEC §2), as `flow create` and
// `flow validate` read them, with the node's policy library; and policy
// library files, as `policy put` reads them. Any bytes must give a model or
// errors, never a crash, a hang or unbounded memory.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "flows/flow.hpp"
#include "flows/flow_diagram.hpp"
#include "flows/policy_library.hpp"

namespace {

const orca::policy_library& library() {
  static const auto lib = *orca::parse_policy_file(R"({
    "filter": [{"name": "US only", "when": {"field": "country", "op": "eq", "value": "US"}}],
    "execution": [{"name": "Needs customer", "kind": "header_validation",
      "rules": [{"when": {"field": "customer", "op": "exists"}, "message": "m"}]}]})",
                                                   "library");
  return lib;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto parsed = orca::parse_flow(text);
  if (parsed.model) {
    // What orcactl does with a valid flow: draw it.
    orca::render_diagram(*parsed.model, orca::diagram_format::dot);
    orca::render_diagram(*parsed.model, orca::diagram_format::mermaid);
  }
  // The same bytes as a flow that may use the library, and as a library.
  if (auto merged = orca::with_library(text, library(), "flow"))
    orca::parse_flow(*merged);
  orca::parse_policy_file(text, "policies");
  return 0;
}
