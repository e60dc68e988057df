#pragma once

// The supervisor of one published flow version: it spawns one journey actor
// per order, routes the order's events and cancels to it, carries out pause,
// resume and stop for the flow, and monitors its journeys so that one that
// dies is recorded as failed with the reason, never silently lost.
//
// A journey that waits for an event may passivate: its actors stop and the
// supervisor keeps only its order id and wake-up time. An event, a cancel or
// the wake-up time brings it back from the store.
//
// Protocol:
//   (start_atom, order_ptr, journey_snapshot)   run a journey
//   (redrive_atom, order_ptr, journey_snapshot) run a redriven journey, once
//                                               its failed run's actor is
//                                               seen to have ended
//   (park_atom, parked_journeys)                waiting journeys found in the
//                                               store at start-up
//   (event_atom, order_id, type)                an event for the order
//   (cancel_atom, order_id)                     cancel the order's journey
//   (pause_atom) / (resume_atom)                hold / continue journeys
//   (resume_atom, latest, home)                 continue journeys; those that
//                                               started no step move to
//                                               version `latest`, whose
//                                               supervisor is `home`
//   (move_in_atom, order_id)                    a journey moved here: run it
//                                               from the store
//   (save_failed_atom, order_id, why)           a save of the order's journey
//                                               failed: tell it if it runs
//   (stop_atom, uint32_t cancel_epoch)          the flow stopped with
//                                               --cancel-in-flight: cancel
//                                               every journey, and those that
//                                               start later in an older epoch
//   (count_running_atom) -> std::size_t        journeys running as actors
//   (count_passivated_atom) -> std::size_t     journeys passivated
//   (count_held_atom) -> std::size_t           journeys held by a pause
//   (journey_atom, order_id) -> caf::actor      the order's journey actor, if
//                                               it is running (for inspection)
// From its journeys: see journey_protocol.hpp.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>

#include "actors/journey_protocol.hpp"
#include "actors/services.hpp"
#include "flows/flow.hpp"

namespace orca {

/// The flow stopped with --cancel-in-flight (with the new cancel epoch).
using stop_atom = caf::atom_constant<caf::atom("stop")>;
/// How many journeys run as actors.
using count_running_atom = caf::atom_constant<caf::atom("crunning")>;
/// How many journeys wait in the store (passivated).
using count_passivated_atom = caf::atom_constant<caf::atom("cpassive")>;
/// How many journeys are held by a pause.
using count_held_atom = caf::atom_constant<caf::atom("cheld")>;
/// The actor of an order's running journey, for inspection.
using journey_atom = caf::atom_constant<caf::atom("journey")>;
/// Journeys found waiting in the store: the supervisor keeps their slots.
using park_atom = caf::atom_constant<caf::atom("park")>;
/// Waiting journeys by order id, each with when its wait times out (0:
/// never).
using parked_journeys = std::vector<std::pair<std::string, int64_t>>;
/// A journey moved to this version by a resume: run it from the store.
using move_in_atom = caf::atom_constant<caf::atom("movein")>;
/// A failed journey was redriven: run it from its redrive point.
using redrive_atom = caf::atom_constant<caf::atom("redrive")>;

/// Stops `actor` for a node that stops (a supervisor stops its journeys
/// with it the same way), before it handles what already waits in its
/// mailbox: that work would only be done again from the store when the node
/// opens next (every journey resumes from its last saved snapshot; provider
/// calls repeat with the same idempotency keys).
void stop_now(const caf::actor& actor);

/// `flow_time` is the flow's own time, shared by the supervisors of all its
/// versions; passivated journeys wake when it reaches their deadlines.
caf::actor spawn_supervisor(caf::actor_system& system, services_ptr services,
                            flow_ptr model, flow_clock_ptr flow_time,
                            uint32_t version, bool paused);

} // namespace orca
