#pragma once

// The node's policy library (SPEC §2.2): filter and execution policies kept
// on the node and shared by every flow, which refers to them by name as to
// its own. A flow's text stays as written; publish freezes a copy of each
// library policy it uses into the version, so later library changes never
// alter a published version.

#include <string>
#include <string_view>
#include <vector>

#include "flows/flow.hpp"

namespace orca {

/// One policy of the library.
struct library_policy {
  std::string name;
  bool execution = false; ///< an execution policy, else a filter policy
  std::string json;       ///< the policy's JSON object, compact
  int64_t updated_on = 0; ///< when it was put in the library
  /// Why its stored record cannot be read ("" if it can); then only `name`
  /// is known. A flow that uses it is refused, naming it; the others are not
  /// held up by it.
  std::string damaged;
};

using policy_library = std::vector<library_policy>;

/// Reads a library file, `{"filter": [...], "execution": [...]}`, checking
/// each policy by the rules it has in a flow. Every problem is one line of
/// the error, prefixed with `origin`. A name may appear once in the file.
caf::expected<policy_library>
parse_policy_file(std::string_view text, const std::string& origin,
                  const limits& lim = default_limits());

/// `flow_text` with a copy of every policy of `library` that it refers to
/// but does not define, added to its own policies. A name the flow defines
/// that the library also has is an error naming both, and so is a reference
/// to a damaged library policy. Text that is not a JSON object comes back
/// as it is, for the flow parser to report.
caf::expected<std::string> with_library(std::string_view flow_text,
                                        const policy_library& library,
                                        const std::string& origin,
                                        const limits& lim = default_limits());

} // namespace orca
