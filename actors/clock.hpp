#pragma once

// Time, injected. Engine logic never reads the wall clock or sleeps: it asks
// its clock for "now" (for records) and for timers (back-off, time-outs,
// waits, simulated latency), which arrive as (timer_atom, token) messages.
// Tests use manual_clock and move time forward themselves.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include <caf/actor.hpp>
#include <caf/actor_control_block.hpp>
#include <caf/atom.hpp>

#include "flows/flow_pauses.hpp"

namespace orca {

using timer_atom = caf::atom_constant<caf::atom("timer")>;

/// Thread-safe; shared by every actor of an engine.
class clock {
public:
  virtual ~clock();

  /// Milliseconds since the Unix epoch.
  virtual int64_t now_ms() const = 0;

  /// Delivers (timer_atom, token) to `target` after `delay_ms`, if the
  /// target still lives then and the timer was not cancelled. Returns an
  /// id for cancel().
  virtual uint64_t schedule(uint32_t delay_ms, const caf::actor& target,
                            uint64_t token) = 0;

  /// Forgets a timer that has not fired (an unknown id is ignored). A timer
  /// refers to its target weakly, but what it keeps of a finished actor
  /// stays until it fires or is cancelled: actors cancel theirs when they end.
  virtual void cancel(uint64_t id) = 0;
};

/// A flow's own time (orca::flow_pauses) as its journeys read it: shared by
/// the supervisors of a flow's versions and their journeys, which keep wait
/// and back-off deadlines in it; the engine sets it when the flow is paused
/// or resumed. Thread-safe.
class flow_clock {
public:
  void set(flow_pauses pauses);

  /// The flow's time at wall time `wall`.
  int64_t at(int64_t wall) const;

  /// How long from wall time `wall` until the flow's time reaches `t` (0 if
  /// it has), or nothing while the flow is paused.
  std::optional<int64_t> until(int64_t t, int64_t wall) const;

private:
  mutable std::mutex mutex_;
  flow_pauses pauses_;
};

using flow_clock_ptr = std::shared_ptr<flow_clock>;

/// The real clock: system time, and timers on a thread of its own.
std::shared_ptr<clock> make_system_clock();

/// A clock that only moves when told to. Timers fall due in order of due
/// time, then of scheduling.
class manual_clock : public clock {
public:
  explicit manual_clock(int64_t start_ms = 1'700'000'000'000);

  int64_t now_ms() const override;
  uint64_t schedule(uint32_t delay_ms, const caf::actor& target,
                    uint64_t token) override;
  /// Timers of a manual clock stay until they fall due (tests count them);
  /// they refer to their targets weakly, and a stale one is ignored by its
  /// target's token.
  void cancel(uint64_t) override {
  }

  /// Moves time forward by `ms`, delivering every timer that falls due.
  void advance(uint32_t ms);

  /// Jumps to the earliest pending timer and delivers every timer due then.
  /// Returns false if there is none.
  bool fire_next();

  std::size_t pending() const;

  /// Waits (in real time) until at least `n` timers are pending.
  bool wait_for_pending(std::size_t n, std::chrono::milliseconds limit);

private:
  struct entry {
    caf::weak_actor_ptr target;
    uint64_t token;
  };

  void deliver_due(std::unique_lock<std::mutex>& guard);

  mutable std::mutex mutex_;
  std::condition_variable scheduled_;
  int64_t now_;
  uint64_t sequence_ = 0;
  std::map<std::pair<int64_t, uint64_t>, entry> timers_;
};

} // namespace orca
