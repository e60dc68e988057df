#pragma once

// The lifecycle of one journey (SPEC §2.3) as a Boost.MSM state machine:
// received, running, waiting, paused, then completed, failed, cancelled or
// skipped. The machine itself lives in journey_lifecycle.cpp (MSM's templates
// are costly to compile); this is its small, non-template interface. Owned by
// one journey actor.

#include <memory>

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

class journey_lifecycle {
public:
  /// A machine in `state` (a restored journey starts where it was).
  explicit journey_lifecycle(journey_state state = journey_state::received);
  ~journey_lifecycle();
  journey_lifecycle(journey_lifecycle&&) noexcept;
  journey_lifecycle& operator=(journey_lifecycle&&) noexcept;

  /// Processes `e`. Returns false, staying where it is, if the current state
  /// has no transition for it.
  bool fire(lifecycle_event e);

  journey_state state() const;

private:
  struct machine;
  std::unique_ptr<machine> machine_;
};

} // namespace orca
