#pragma once

// Every message between a flow supervisor, its journey actors and their
// branch actors, in one place. (What the engine asks of a supervisor is in
// supervisor.hpp; timers arrive as the clock's (timer_atom, token), see
// clock.hpp.)
//
//   supervisor -> journey      (start_atom) once, (event_atom, type),
//                              (cancel_atom), (pause_atom), (resume_atom)
//                              or (resume_atom, latest, home): resume, or
//                              move to version `latest` of the flow, whose
//                              supervisor is `home`, if no step started
//   journey    -> branch       the same event / cancel / pause / resume,
//   branch     -> its branches   passed down the tree
//   branch     -> journey      path_report after every step boundary (its
//                              last one marked done, when the journey is
//                              its parent); or, at a boundary where one of
//                              its paths claims, (claim_atom, path_report,
//                              scope line ids, the path's sequence) ->
//                              vector<fulfillment_order> (path_runner.hpp)
//   branch     -> its parent   (branch_done_atom, seq, failed) when it ends,
//                              if its parent is a branch
//   clock      -> any path     (timer_atom, token)
//   sink       -> journey      (save_failed_atom, why), or through the
//                              supervisor for a save without a callback
//   journey    -> itself       (saved_waiting_atom, change), (save_now_atom)
//   journey    -> supervisor   (passivate_atom, order_id, wake_at,
//                              received) -> bool: may it leave memory?
//                              (held_atom, bool): it is now held by a
//                              pause, or no longer
//
// Journey and branch actors are linked, so a branch that dies takes its
// journey with it and the supervisor, which monitors journeys, records the
// journey as failed with the reason.

#include <optional>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "flows/policies.hpp"
#include "persistence/journal.hpp"
#include "persistence/journey_snapshot.hpp"

namespace orca {

/// Run: to a supervisor with the order and its first snapshot, to a
/// journey once it is spawned.
using start_atom = caf::atom_constant<caf::atom("start")>;
/// An event of the order (its type: event_types), passed down the tree.
using event_atom = caf::atom_constant<caf::atom("event")>;
/// Cancel the order's journey, passed down the tree.
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
/// Hold: start no step until resumed.
using pause_atom = caf::atom_constant<caf::atom("pause")>;
/// Continue after a pause (with a version and its supervisor: move there
/// if no step started).
using resume_atom = caf::atom_constant<caf::atom("resume")>;
/// A branch claims the unsent fulfillment orders within its scope.
using claim_atom = caf::atom_constant<caf::atom("claim")>;
/// To a journey from its sink: a snapshot of it could not be written.
using save_failed_atom = caf::atom_constant<caf::atom("savefail")>;
/// To a journey from itself: its waiting snapshot number `change` is
/// durable; it may leave memory if nothing happened since.
using saved_waiting_atom = caf::atom_constant<caf::atom("savedwait")>;
/// To a journey from itself: save what changed while messages were
/// waiting (journey_sink::watches_every_change).
using save_now_atom = caf::atom_constant<caf::atom("savenow")>;
/// To a branch's parent: the branch ended (failed or not).
using branch_done_atom = caf::atom_constant<caf::atom("brdone")>;
/// To a supervisor from a journey: may it leave memory (it waits)?
using passivate_atom = caf::atom_constant<caf::atom("passivate")>;
/// To a supervisor from a journey: it is held by a pause (true) or no
/// longer (false).
using held_atom = caf::atom_constant<caf::atom("held")>;

/// What a branch did since its last report: its new state, the steps that
/// ended, and its effects on journey-wide data. The journey applies a report
/// atomically and snapshots the result.
struct path_report {
  path_state state;
  std::vector<step_result> steps;
  std::vector<source_group> new_fulfillment;
  std::vector<std::string> sent;     ///< fulfillment orders now sent
  std::vector<std::string> released; ///< claimed ones given back unsent
  std::optional<std::string> invoice_id;
  std::vector<path_state> started; ///< branch actors it started
  /// The sides of conditions the branch runs itself, as they stand: those
  /// it runs, and those that ended since the last report.
  std::vector<path_state> sides;
  std::vector<journal_entry> journal;
  std::vector<path_state> failed; ///< see path_host::path_failed
  /// How many signals the branch had taken in (path_actor::heard).
  uint64_t heard = 0;
  /// The branch ended, and its parent is the journey: this report is also
  /// its branch_done (one message instead of two).
  bool done = false;
};

} // namespace orca

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orca::path_report)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orca::path_state)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orca::order_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orca::flow_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orca::journey_snapshot)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<orca::fulfillment_order>)
