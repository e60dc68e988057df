#pragma once

// The journey actor: one order through one flow version. It runs the
// top-level path itself, keeps the journey-wide data (step results,
// fulfillment orders, invoice, the Boost.MSM lifecycle) in its journey_book,
// and applies the reports of its branch actors to it. After every change the
// book settles the journey's state, and the actor hands the snapshot to the
// journey sink. It stops when the journey is terminal.

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>

#include "actors/path_actor.hpp"

namespace orca {

/// Spawns the journey for `snapshot` (a new one, state received, or one
/// restored from the store), monitored by `supervisor`.
caf::actor spawn_journey(caf::event_based_actor* supervisor,
                         services_ptr services, flow_ptr model,
                         flow_clock_ptr flow_time, order_ptr the_order,
                         journey_snapshot snapshot, bool paused);

} // namespace orca
