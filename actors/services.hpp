#pragma once

// What the actors of an engine share: the clock, the provider directory and
// the place journeys are written to. Created by the engine before any actor
// and destroyed after all of them; every member is thread-safe.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>

#include "actors/clock.hpp"
#include "persistence/journal.hpp"
#include "persistence/journey_snapshot.hpp"
#include "persistence/journey_store.hpp"
#include "persistence/provider_ledger.hpp"

namespace orca {

/// Provider ids and the adapter actor behind each.
class provider_directory {
public:
  void add(const std::string& id, caf::actor adapter, std::string kind);

  /// The adapter registered as `id`, or an invalid handle.
  caf::actor find(const std::string& id) const;

  struct entry {
    std::string id;
    std::string kind;
    caf::actor adapter;
  };

  /// Every provider, by id.
  std::vector<entry> list() const;

  std::vector<std::string> ids() const;

  /// Forgets every provider (at shutdown, after their actors stopped).
  void clear();

private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
};

/// Where journeys go and come from. Implemented by the engine on its store.
class journey_sink {
public:
  virtual ~journey_sink();

  /// Persists `snapshot` and appends `chunk` to its journal (as chunk
  /// number snapshot.journal_chunks - 1) in one group-committed write, and
  /// tells subscribers once it is durable. Then calls `done` (on the
  /// writer thread: keep it short) with no error. If the write fails,
  /// `done` gets the error: the journey must not go on, and records its
  /// failure (journey_failed) as its last write; a terminal snapshot that
  /// fails is recorded as failed by the sink. `done` may be empty (a
  /// journey's saves usually need no answer): a failure is then sent to
  /// the supervisor of the journey's flow version as (save_failed_atom,
  /// order_id, why), which hands it to the journey if it runs.
  virtual void save(const journey_snapshot& snapshot,
                    const std::vector<journal_entry>& chunk,
                    std::function<void(const caf::error&)> done) = 0;

  /// A journey could not go on (its actor died, its record is damaged):
  /// record it as failed with `reason`, keeping what was persisted of it.
  virtual void journey_failed(const std::string& order_id,
                              const std::string& flow, uint32_t version,
                              const std::string& reason) = 0;

  /// Moves a journey that has not started a step from `from`'s version of
  /// its flow to `to`'s, durably, then calls `done` as save does.
  virtual void move(const journey_snapshot& from, const journey_snapshot& to,
                    std::function<void(const caf::error&)> done) = 0;

  /// What a passivated journey restarts from.
  virtual caf::expected<restart_point> load(const std::string& order_id,
                                            const std::string& flow,
                                            uint32_t version) = 0;

  /// Whether something outside wants every change of a journey of `flow`
  /// as it was at that change (a subscription to every record, a hook on
  /// steps or states). When nothing does, a journey saves less often: while
  /// it runs, when it waits, pauses or ends or after save_delay_ms
  /// (journey_services); otherwise once after the messages already waiting
  /// for it. The journal keeps every entry either way. Thread-safe.
  virtual bool watches_every_change(const std::string& flow) const;
};

/// What journeys do, for the engine's metrics. Implemented by the engine;
/// called from actor threads, so it must be quick and thread-safe.
class journey_observer {
public:
  virtual ~journey_observer();
  /// A step of `flow` ended: its kind ("validate_order_header", ...), one
  /// of step::kind_name's names, which the program keeps (an observer may
  /// know a kind by its address).
  virtual void step_ended(const std::string& flow, const char* kind,
                          step_outcome outcome) = 0;
  /// A provider answered an attempt (ok or not) after `seconds`.
  virtual void provider_answered(const std::string& provider, double seconds,
                                 bool ok) = 0;
};

struct journey_services {
  std::shared_ptr<orca::clock> time;
  provider_directory providers;
  journey_sink* sink = nullptr;         ///< owned by the engine
  provider_ledger* ledger = nullptr;    ///< owned by the engine
  journey_observer* observer = nullptr; ///< owned by the engine; may be null
  /// A journey that waits for events leaves memory (its actors stop) until
  /// an event, a cancel or its wait time-out brings it back.
  bool passivate_waiting = true;
  /// The time limit of a provider call attempt whose step sets none.
  uint32_t default_timeout_ms = 30000;
  /// How long a running journey that nothing outside watches (see
  /// journey_sink::watches_every_change) may leave its changes unsaved
  /// while its provider calls and branches are at work: it saves them all
  /// at once when it waits, pauses or ends, or when this time is up. 0: a
  /// journey saves after every change (or burst of messages).
  uint32_t save_delay_ms = 1000;
  /// The node is stopping: a journey or branch actor that has not begun
  /// quits at once instead of running. (Its stored state, saved before the
  /// order or event was acknowledged, resumes it when the node opens next.)
  std::atomic<bool> stopping{false};
};

using services_ptr = std::shared_ptr<journey_services>;

} // namespace orca
