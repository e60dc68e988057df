#pragma once

// Replay: run a journey's recorded history back through the path rules, on
// the flow version it ran on or on another one, without sending anything.
// Provider answers, events, timers, pauses and cancels are taken from the
// journal, in the order they happened; what the paths do with them is
// computed again and compared with what was recorded.
//
// Single-threaded and deterministic: every path of the journey runs in one
// replay_host, branches one after another, with the path rules of
// path_runner and the journey rules of journey_book that the actors use.

#include <optional>
#include <string>
#include <vector>

#include "persistence/journal.hpp"
#include "persistence/journey_snapshot.hpp"

namespace orca {

struct replay_result {
  /// What the replay did, as journal entries (step ids of the replayed flow).
  std::vector<journal_entry> timeline;
  /// How each step ended, in the order they ended.
  std::vector<step_result> steps;
  journey_state state = journey_state::received;
  std::vector<fulfillment_order> fulfillment_orders;
  std::optional<std::string> invoice_id;
  /// Where the replay first differs from the recording, and why; nothing if
  /// it does not.
  std::optional<std::string> divergence;
};

/// Replays `journal` (recorded on `recorded_model`) of a journey of order
/// `o` on `model` (the same flow version, or another one). Every run of a
/// redriven journey is replayed: where the journal says `redriven`, the
/// replay starts again from its own failed steps, as the redrive did. A
/// call attempt whose step sets no timeout_ms had `default_timeout_ms`
/// (the node's).
replay_result replay(const flow& recorded_model, const flow& model,
                     const order& o, const std::vector<journal_entry>& journal,
                     uint32_t default_timeout_ms);

} // namespace orca
