#pragma once

// The actor system's scheduler: CAF's coordinator with work stealing on
// queues of Orca's own (or CAF's work sharing), and a clock that is not
// told when an actor that never set a timeout ends.
//
// CAF 0.17's work-stealing queue walks its whole length, under both of its
// locks, for every job stolen from it; a busy worker's long queue was
// locked that long each time the other worker went looking for work.
// Orca's queue has both ends at hand: with the HTTP API or remote clients
// beside the actors, 10 % more orders a second (see the README).
//
// CAF 0.17 tells its clock thread of every actor that ends, so that it can
// drop the actor's timeouts: an allocation, a lock and a wake-up of that
// thread, for every journey, branch and provider call. Orca's actors set
// no CAF timeouts (their timers are orca::clock's), so nearly all of that
// is for nothing; this clock passes on only the ends of actors that did set
// one (timed requests, receive time-outs).

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

namespace orca {

/// Makes `cfg` start the scheduler above; `sharing` picks work sharing
/// (one queue) instead of work stealing. Replaces "scheduler.policy".
void load_scheduler(caf::actor_system_config& cfg, bool sharing);

/// Whether no actor of `sys` had a message to handle or was handling one,
/// at a moment during the call: what a test on a manual clock waits for
/// before it moves time on. With work stealing only; with work sharing it
/// cannot tell, and says true.
bool actors_idle(caf::actor_system& sys);

} // namespace orca
