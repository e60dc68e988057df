#pragma once

// A branch actor runs one taken branch of a splitter: a child of the
// journey (or of the branch whose element it belongs to), working on the
// branch's subset of lines. It reports every step boundary to its journey,
// which owns all journey-wide data and the snapshot, and tells its parent
// when it ends so the parent's merge barrier can count it. The sides its
// own conditions take it runs itself, and reports their states with its own
// (see path_actor.hpp).

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>

#include "actors/path_actor.hpp"

namespace orca {

/// Spawns a branch actor for `start`, linked to `parent`; it reports to
/// `context.journey`.
caf::actor spawn_branch(path_actor* parent, path_context context,
                        path_state start);

} // namespace orca
