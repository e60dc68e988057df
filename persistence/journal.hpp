#pragma once

// The journal of a journey: an append-only history of what happened to it
// (steps starting and ending, provider calls and answers, events, timers,
// lifecycle changes). `journey show` prints it as a timeline and replay runs
// it back through the state machine.
//
// A journey appends the entries made since its last snapshot as one chunk,
// in the same write request as the snapshot, so history and state never
// disagree after a crash. Chunks are keyed by journey key and chunk number.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flows/policies.hpp"
#include "persistence/journey_snapshot.hpp"

namespace orca {

enum class journal_kind : uint8_t {
  started = 1,           ///< the journey started; ok: the flow was paused,
                         ///< text: the flow's own time (ms, decimal)
  step_started = 2,      ///< a step began (after its filters matched)
  step_ended = 3,        ///< outcome, attempts, error and its code
  provider_called = 4,   ///< attempt, provider id, idempotency key
  provider_answered = 5, ///< attempt, ok, error and its code, answer
  event_received = 6,    ///< event type
  timer_fired =
    7, ///< text: "attempt timed out", "back-off over", "wait timed out"
  state_changed = 8, ///< the journey's new state
  resumed = 9,       ///< restored from the store (restart or
                     ///< reactivation); ok and text as for started
  redriven = 10,     ///< restarted from its failed steps
  paused = 11,
  unpaused = 12,
  cancel_requested = 13,
};

const char* to_string(journal_kind kind);

struct journal_entry {
  journal_kind kind = journal_kind::started;
  int64_t at = 0;       ///< ms since the Unix epoch
  sequence_id path = 0; ///< the path it happened on
  step_id step = no_step;
  uint32_t attempt = 0;
  step_outcome outcome = step_outcome::succeeded;
  journey_state state = journey_state::received;
  bool ok = false;
  std::string text; ///< error, event type, provider id, timer
  std::string key;  ///< idempotency key of a provider call
  std::vector<source_group> fulfillment; ///< a DOM answer
  std::optional<std::string> invoice_id; ///< a billing answer
  /// A failed answer or step: what kind of provider failure (errc{}: none).
  errc code = errc{};
};

} // namespace orca
