#pragma once

// What a journey has heard from outside its paths (its order's events, a
// cancel, a pause), and when a waiting journey may leave memory: the rules
// that the live journey, replay and recovery share.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "flows/flow.hpp"
#include "persistence/journal.hpp"
#include "persistence/journey_snapshot.hpp"

namespace orca {

/// Whether `received` (the events an order got) holds one of `types`. Every
/// order has had "new_order".
bool holds_event(const std::vector<std::string>& received,
                 const std::vector<std::string>& types);

/// What a journey has heard from outside its paths: its order's events, a
/// cancel, a pause. The journey and branch actors keep one each, and replay
/// rebuilds one from the journal; one rule takes every signal in.
struct journey_signals {
  std::vector<std::string> events; ///< types received ("new_order" is implied)
  bool paused = false;
  bool cancelling = false;

  /// Takes in a signal: an event of type `type` (event_received), a cancel
  /// (cancel_requested), a pause (paused) or its end (unpaused). Returns
  /// whether it is news to the journey, which journals what is.
  bool take(journal_kind signal, const std::string& type = {});
};

/// When a waiting journey whose paths are `paths` may sleep until: the
/// earliest deadline among its waiting paths (0: none, only an event wakes
/// it). Nothing if a path is about to go on, so that the journey must stay
/// awake: a waiting path whose event is among `received` already, or the
/// element of a branch that ended and is not counted yet (a branch actor
/// counts the end of its own branches a message later).
std::optional<int64_t> sleep_until(const flow& f,
                                   const std::vector<path_state>& paths,
                                   const std::vector<std::string>& received);

} // namespace orca
