#pragma once

// The node config's named sections ("providers", "sources", "hooks"): each
// an object of name -> entry, checked the same way before each entry is.

#include <cstddef>
#include <string>
#include <string_view>

#include "flows/diagnostics.hpp"
#include "flows/json.hpp"
#include "flows/limits.hpp"

namespace orca {

/// Calls `f(name, where, value)` for each entry of `section`, an object of
/// `key` -> `entry` (say "hook name" -> "hook"), where `where` is the
/// entry's path for diagnostics. A section that is not an object, and an
/// entry whose name is not a valid name, are reported to `diags` and
/// skipped.
template <class F>
void for_each_entry(const json_value& json, const std::string& section,
                    std::string_view key, std::string_view entry,
                    std::size_t name_bytes, diagnostics& diags, F&& f) {
  if (!json.IsObject()) {
    diags.add(section,
              "must be an object of " + std::string{key} + " -> "
                + std::string{entry});
    return;
  }
  for (const auto& m : json.GetObject()) {
    std::string name{view_of(m.name)};
    auto where = section + "." + quote(name);
    if (auto problem = name_problem(name, name_bytes); !problem.empty()) {
      diags.add(where, std::string{key} + ": " + problem);
      continue;
    }
    f(name, where, m.value);
  }
}

} // namespace orca
