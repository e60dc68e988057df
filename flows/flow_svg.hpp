#pragma once

// A flow's picture as SVG: the DOT digraph of flow_diagram.hpp laid out by
// Graphviz's `dot` engine and written by its core SVG renderer, in process
// through libgvc (no `dot` program is run). Graphviz keeps global state, so
// renderings are serialised by one lock; callable from any thread.
//
// The SVG is a complete document (XML prolog included). Every label is
// escaped by Graphviz, so names from a flow cannot inject markup.

#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "flows/flow.hpp"

namespace orca {

/// The flow laid out top to bottom as SVG.
caf::expected<std::string> render_svg(const flow& f);

/// Lays out any DOT text as SVG; an error (errc::invalid_argument) carries
/// Graphviz's own message.
caf::expected<std::string> render_svg(std::string_view dot);

} // namespace orca
