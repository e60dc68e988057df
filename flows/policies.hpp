#pragma once

// What filter and execution policies do to an order (SPEC §2.2, §2.3): which
// lines an action sees, the built-in validation actions, and fulfillment
// source assignment. Pure functions of the flow, the step and the order.

#include <string>
#include <vector>

#include "flows/flow.hpp"
#include "flows/order.hpp"

namespace orca {

/// Result of an action's filter policies on the lines a path works on.
struct filter_result {
  bool matched = true; ///< false: the action is skipped
  line_set lines;      ///< the lines the action sees if matched
};

/// Applies `s`'s filter policies (all must match) to `lines` of `o`. Header
/// policies test the order; line policies keep the lines that match every
/// one of them, and no line left means no match.
filter_result apply_filters(const flow& f, const step& s, const order& o,
                            const line_set& lines);

/// Runs a validation action (validate_order_header or validate_order_line)
/// and returns the message of every failing rule, in policy and rule order;
/// empty means the action succeeded. Line messages name the line:
/// `line "2": quantity must be positive`.
std::vector<std::string> run_validation(const flow& f, const step& s,
                                        const order& o, const line_set& lines);

/// Lines grouped by the fulfillment source assigned to them.
struct source_group {
  std::string source;
  std::vector<std::string> line_ids;
};

/// Runs assign_fulfillment_source: the first rule that matches a line gives
/// its source, else the policy's default_source. Groups keep the order in
/// which sources first appear. Fails naming the lines that got no source.
caf::expected<std::vector<source_group>> assign_sources(const flow& f,
                                                        const step& s,
                                                        const order& o,
                                                        const line_set& lines);

} // namespace orca
