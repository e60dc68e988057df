#pragma once

// A flow's own time (SPEC §2.4): wall time less the time the flow spent
// paused, so that it stands still while the flow is paused. Deadlines of
// waits and back-offs are kept in it, so time paused does not count. One
// value type for every place that keeps it: the flow's record, the clock its
// journeys read (orca::flow_clock), and replay, which rebuilds it from a
// journal.

#include <algorithm>
#include <cstdint>
#include <optional>

namespace orca {

struct flow_pauses {
  /// When the current pause began, ms since the Unix epoch; 0: not paused.
  int64_t paused_on = 0;
  /// Time spent in pauses that have ended.
  int64_t paused_ms = 0;

  bool paused() const {
    return paused_on > 0;
  }

  /// The flow's time at wall time `wall`.
  int64_t at(int64_t wall) const {
    return (paused() ? paused_on : wall) - paused_ms;
  }

  /// How long from wall time `wall` until the flow's time reaches `t` (0 if
  /// it has), or nothing while the flow is paused.
  std::optional<int64_t> until(int64_t t, int64_t wall) const {
    if (paused())
      return std::nullopt;
    return std::max<int64_t>(0, t - (wall - paused_ms));
  }

  /// A pause begins at `wall` (nothing changes if one is on).
  void pause(int64_t wall) {
    if (!paused())
      paused_on = std::max<int64_t>(wall, 1);
  }

  /// The pause, if any, ends at `wall`; the time it lasted is added.
  void resume(int64_t wall) {
    if (paused() && wall > paused_on)
      paused_ms += wall - paused_on;
    paused_on = 0;
  }

  /// The pauses that make the flow's time read `flow_time` at wall time
  /// `wall`, paused or not from then on.
  static flow_pauses reading(int64_t flow_time, int64_t wall, bool paused) {
    flow_pauses result;
    result.paused_ms = wall - flow_time;
    if (paused)
      result.paused_on = std::max<int64_t>(wall, 1);
    return result;
  }
};

} // namespace orca
