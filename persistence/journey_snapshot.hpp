#pragma once

// The durable state of a journey (one order through one flow version) and of
// each of its live paths. A journey actor owns its snapshot, changes it at
// step boundaries and writes it to the store; recovery and replay start from
// it. Plain values: no pointers, no handles.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flows/errc.hpp"
#include "flows/flow.hpp"
#include "flows/order.hpp"

namespace orca {

/// SPEC §2.3: running, waiting, paused, then one terminal state.
enum class journey_state : uint8_t {
  received = 0,
  running = 1,
  waiting = 2,
  paused = 3,
  completed = 4,
  failed = 5,
  cancelled = 6,
  skipped = 7,
};

const char* to_string(journey_state state);
/// The state a user sees (SPEC §2.3): a journey that has not run a step yet
/// (received) is running.
journey_state visible_state(journey_state state);
std::optional<journey_state> journey_state_from(std::string_view name);
bool is_terminal(journey_state state);

enum class step_outcome : uint8_t { succeeded = 0, failed = 1, skipped = 2 };

const char* to_string(step_outcome outcome);

/// How one step ended.
struct step_result {
  step_id step = 0;
  step_outcome outcome = step_outcome::succeeded;
  uint32_t attempts = 0;
  std::string error; ///< empty: none
  int64_t ended_on = 0;
  /// What kind of provider failure failed the step (provider_failure,
  /// provider_timeout, node_unreachable, protocol_error, limit_exceeded);
  /// errc{} when the step did not fail at a provider.
  errc error_code = errc{};
};

/// A fulfillment order of the journey (SPEC §2.3).
struct fulfillment_order {
  std::string id;
  std::string source;
  std::vector<std::string> lines;
  bool sent = false;

  /// Whether every line of this order is one of `line_ids`.
  bool within(const std::vector<std::string>& line_ids) const;
};

/// Where a path is. A path runs one sequence of steps: the top-level one for
/// the journey, a branch body for a branch.
enum class path_phase : uint8_t {
  ready = 0, ///< at a step boundary, about to run the step at `position`
  waiting_event = 1, ///< the action at `position` waits for an input event
  calling = 2,       ///< a provider call of that action is in flight
  backoff = 3,       ///< waiting to retry that action
  retry = 4,         ///< the backoff is over; the next attempt is due
  claiming = 5,      ///< asking the journey for unsent fulfillment orders
  branching = 6,     ///< the element at `position` waits for its branches
  ended = 7,         ///< done; see `failed` and `cancelled`
};

const char* to_string(path_phase phase);

/// One taken branch of the element a path is at, as its merge barrier sees it.
struct branch_slot {
  sequence_id body = 0;
  bool ended = false;
  bool failed = false;
};

struct path_state {
  sequence_id seq = top_sequence;
  uint16_t position = 0;
  path_phase phase = path_phase::ready;
  step_outcome previous =
    step_outcome::succeeded; ///< the step before `position`
  bool held = false;         ///< paused at the boundary (phase ready or retry)
  bool failed = false;       ///< ended with an unhandled failure
  bool cancelled = false;    ///< ended by a cancel
  uint32_t attempts = 0;     ///< attempts of the current step so far
  uint32_t token = 0;        ///< tags the current timer or provider call
  int64_t deadline = 0;      ///< when the current wait or back-off ends (ms)
  line_set lines;            ///< the lines this path works on
  std::vector<branch_slot> branches; ///< when branching
  std::vector<std::string> sending;  ///< fulfillment orders being sent
  std::string last_error;        ///< error of the current step's last attempt
  errc last_error_code = errc{}; ///< its kind (see step_result::error_code)
};

struct journey_snapshot {
  std::string order_id;
  std::string flow;
  uint32_t version = 0;
  journey_state state = journey_state::received;
  int64_t created_on = 0;
  int64_t updated_on = 0;
  uint32_t run = 0; ///< 0, then +1 for every redrive
  std::vector<step_result> steps;
  std::vector<fulfillment_order> fulfillment_orders;
  std::optional<std::string> invoice_id;
  std::vector<std::string> events; ///< event types received, in order
  bool cancel_requested = false;
  std::string error;             ///< why the journey failed, if not a step
  std::vector<path_state> paths; ///< live paths; the journey's own first
  /// Paths as they were at the step that failed them (for redrive).
  std::vector<path_state> failed_paths;
  uint32_t journal_chunks = 0; ///< journal chunks written so far
  /// A path ended at a step boundary because of a cancel, skipping steps
  /// it had left: the journey ends cancelled. (A cancel that comes when no
  /// step is left leaves the journey's outcome as it is.)
  bool cut_by_cancel = false;
  /// The flow's cancel_epoch when the journey started (flow_record).
  uint32_t cancel_epoch = 0;
};

/// The record of one accepted order.
struct order_record {
  std::string id;
  std::string text; ///< the order's JSON, as submitted
  int64_t received_on = 0;
  std::vector<std::string> events; ///< event types received for it, in order
  bool cancelled = false;
};

/// The path state of a journey's own, top-level path, ready to start.
path_state initial_path(const order& o);

/// Whether a stop with --cancel-in-flight that brought the flow's cancel
/// epoch to `flow_cancel_epoch` came after the journey started and its
/// cancel has not reached the journey yet.
bool behind_a_stop(const journey_snapshot& s, uint32_t flow_cancel_epoch);

/// Whether the journey has started a step: it ran one (`ran_steps`), or its
/// own path `top` moved on or split (`has_branches`).
bool started_a_step(bool ran_steps, const path_state& top, bool has_branches);
/// The same, of a journey as stored.
bool started_a_step(const journey_snapshot& s);

/// `from`, which started no step, as a new journey of the same order on
/// version `latest` of its flow (a journey held by a pause moves so on
/// resume). It keeps what the order received and when it was created.
journey_snapshot moved_to_version(const journey_snapshot& from, uint32_t latest,
                                  const order& o, int64_t now);

} // namespace orca
