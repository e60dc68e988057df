#pragma once

// The lifecycle of one journey (SPEC §2.3) as a Boost.MSM state machine:
// received, running, waiting, paused, then completed, failed, cancelled or
// skipped. The machine itself lives in journey_lifecycle.cpp (MSM's templates
// are costly to compile); this is its small, non-template interface. Owned by
// one journey actor.

#include <memory>
#include <stdexcept>
#include <string>

#include "persistence/journey_snapshot.hpp"

namespace orca {

enum class lifecycle_event : uint8_t {
  start,    ///< received -> running
  work,     ///< waiting / paused -> running
  wait,     ///< -> waiting for an input event
  hold,     ///< -> paused at a step boundary
  complete, ///< running -> completed
  fail,     ///< -> failed
  skip,     ///< running -> skipped
  cancel,   ///< -> cancelled
  redrive,  ///< failed -> running
};

const char* to_string(lifecycle_event e);

/// A move the lifecycle does not have (cancel a completed journey, complete
/// a waiting one): a bug in the caller, never a consequence of input. The
/// journey actor that makes it dies with this reason, and its supervisor
/// records the journey as failed with it; the node goes on.
class impossible_move : public std::logic_error {
public:
  impossible_move(journey_state from, lifecycle_event e);
};

class journey_lifecycle {
public:
  /// A machine in `state` (a restored journey starts where it was).
  explicit journey_lifecycle(journey_state state = journey_state::received);
  ~journey_lifecycle();
  journey_lifecycle(journey_lifecycle&&) noexcept;
  journey_lifecycle& operator=(journey_lifecycle&&) noexcept;

  /// Processes `e`. A move to where the journey already is (wait while
  /// waiting, hold while paused, work while running) changes nothing; one
  /// the current state has no transition for throws impossible_move.
  void fire(lifecycle_event e);

  /// Whether fire(e) would move or stay rather than throw.
  bool allows(lifecycle_event e) const;

  journey_state state() const;

private:
  struct machine;
  std::unique_ptr<machine> machine_;
};

} // namespace orca
