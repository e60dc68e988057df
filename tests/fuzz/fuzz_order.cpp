// libFuzzer target: orders (SPEC §4) as intake reads them, and every
// predicate op evaluated on what parses.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "flows/diagnostics.hpp"
#include "flows/order.hpp"
#include "flows/predicate.hpp"

namespace {

/// Predicates of every op on fields an order commonly has.
const std::vector<orca::predicate>& predicates() {
  static const std::vector<orca::predicate> all = [] {
    const char* texts[] = {
      R"({"field": "source", "op": "eq", "value": "BigCommerce"})",
      R"({"field": "total", "op": "gt", "value": 10})",
      R"({"field": "currency", "op": "in", "value": ["USD", "EUR"]})",
      R"({"field": "note", "op": "matches", "value": "(a+)+$"})",
      R"({"field": "tags", "op": "contains", "value": "gift"})",
      R"({"any": [{"field": "ship_to.country", "op": "exists"},
                  {"not": {"field": "lines.0.sku", "op": "missing"}}]})",
    };
    std::vector<orca::predicate> result;
    for (const char* text : texts) {
      auto doc = orca::parse_json(text, "seed");
      orca::diagnostics diags;
      if (auto p = orca::parse_predicate(*doc, "when", diags))
        result.push_back(std::move(*p));
    }
    return result;
  }();
  return all;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  orca::order_id_of(text);
  auto o = orca::order::parse(text);
  if (!o)
    return 0;
  for (const auto& p : predicates()) {
    orca::evaluate(p, o->header());
    for (std::size_t i = 0; i < o->line_count(); ++i)
      orca::evaluate(p, o->line(i));
  }
  return 0;
}
