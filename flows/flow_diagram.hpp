#pragma once

// Pictures of a flow for `orcactl flow export NAME --format dot|mermaid`:
// the same graph of steps, branches and merge points written as a Graphviz
// DOT digraph or as a Mermaid flowchart. Pure functions of a parsed flow,
// callable from any thread.
//
// What the picture shows, in both formats:
// - A `start` and a `finish` node (labelled "start" and "end"; the id is not
//   `end` because Mermaid reserves that word).
// - One node per step, id `s<step id>`, labelled with the step's name, then
//   its kind (and ` → provider` for actions that call one), then for actions
//   `waits for <events>` and `up to <n> attempts` when they apply.
//   Shapes: actions are boxes, conditions diamonds, splitters hexagons.
// - For each `*_merge` element a merge node, id `m<step id>`, labelled
//   `merge: <element name>`, where its branches join before the next step.
//   A plain `condition` / `splitter` is last in its sequence, so its branches
//   end where the enclosing path ends: at the merge of the element around
//   it, or at `finish` on the top level.
// - Edges in execution order (depth first, a branch's edge into its merge
//   right after the branch). An edge into a branch is labelled with the
//   branch name (`yes` / `no` for conditions); an empty branch is an edge
//   with that label straight to wherever the branch would end.
// - Filter policies always go on the edges, never in node labels: every
//   edge into an action with filter policies carries them as
//   `Name (predicate)`, `Name [line] (predicate)` for line scope, joined
//   by ", ", after the branch name and ": " when there is one, e.g.
//     `Retail: Retail (channel ne "b2b"),
//      Physical lines [line] (kind ne "gift_card")`
//   (on one line).
//
// Names are copied as UTF-8 and escaped for the format: in DOT `"` and `\`
// are backslash-escaped inside quoted strings; in Mermaid labels are quoted
// and `"`, `#`, `&`, `<`, `>` and a backquote become entity codes (`#quot;`
// and so on). A line break in a name becomes a line break in the label.
// The output depends only on the flow, so it is the same on every run.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "flows/flow.hpp"

namespace orca {

enum class diagram_format : uint8_t { dot, mermaid };

/// Parses "dot" / "mermaid"; nothing for anything else.
std::optional<diagram_format> diagram_format_from(std::string_view name);

/// The flow as a Graphviz DOT digraph or a Mermaid flowchart.
std::string render_diagram(const flow& f, diagram_format format);

} // namespace orca
