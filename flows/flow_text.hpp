#pragma once

// Human-readable renderings of a flow: the indented tree of steps that
// `orcactl flow validate` and `flow show` print.

#include <string>

#include "flows/flow.hpp"

namespace orca {

/// The flow as an indented tree: name and type, then every step with its
/// kind, provider, policies, events and retries; branches nested below
/// their element.
std::string render_tree(const flow& f);

/// One-line summary of an action's settings, e.g.
/// `filters: Retail; retry: 5 attempts from 50 ms`; empty if it has none.
std::string describe_settings(const flow& f, const step& s);

} // namespace orca
