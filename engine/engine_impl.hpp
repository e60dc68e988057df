#pragma once

// The state behind orca::Engine, private to engine/: the stores, the actor
// system, the flow versions with their supervisors, and the subscribers.
// Its functions live by job: engine.cpp (open, stop), engine_flows.cpp,
// engine_intake.cpp, engine_providers.cpp, engine_recovery.cpp,
// engine_retention.cpp and engine_journeys.cpp (the journey sink, queries,
// replay, redrive).

#include <atomic>
#include <map>
#include <mutex>

#include <caf/all.hpp>

#include "actors/journey_protocol.hpp"
#include "actors/services.hpp"
#include "engine/engine.hpp"
#include "engine/metrics.hpp"
#include "engine/hooks.hpp"
#include "engine/subscribers.hpp"
#include "persistence/flow_store.hpp"
#include "persistence/group_commit.hpp"
#include "persistence/journey_store.hpp"
#include "persistence/lmdb_store.hpp"

namespace orca {

namespace engine_detail {

using version_key = std::pair<std::string, uint32_t>;

/// A flow version that new orders go to.
struct intake_target {
  std::string flow;
  uint32_t version = 0;
  uint32_t cancel_epoch = 0; ///< the flow's, for the journeys it starts
  caf::actor supervisor;
};

using target_list = std::vector<intake_target>;

} // namespace engine_detail

struct Engine::impl final : journey_sink {
  using version_key = engine_detail::version_key;
  using target_list = engine_detail::target_list;

  engine_options options;
  /// Outlives everything that reports to it (actors, the writer).
  std::unique_ptr<engine_metrics> metrics = std::make_unique<engine_metrics>();
  std::unique_ptr<store> db;
  std::unique_ptr<flow_store> flows;
  std::unique_ptr<group_committer> writer;
  std::unique_ptr<journey_store> journeys;
  /// Sends hook deliveries; null without hooks. Stopped before the writer.
  std::unique_ptr<hook_dispatcher> hooks;
  std::unique_ptr<provider_ledger> ledger;
  std::unique_ptr<caf::actor_system_config> cfg;
  std::unique_ptr<caf::actor_system> system;
  services_ptr services;
  caf::actor sweeper;

  // Guards the maps below.
  mutable std::mutex mutex;
  std::map<version_key, flow_ptr> models;
  std::map<version_key, caf::actor> supervisors;
  std::map<std::string, flow_record> records;
  /// Each flow's own time, shared by its supervisors (see keep()).
  std::map<std::string, flow_clock_ptr> clocks;
  std::map<std::string, std::shared_ptr<call_log>> logs;
  std::shared_ptr<const target_list> targets = std::make_shared<target_list>();

  /// Orders accepted whose journeys still hold them in memory (SPEC §8's
  /// work in flight). Shared with the orders' deleters.
  std::shared_ptr<std::atomic<int64_t>> in_flight =
    std::make_shared<std::atomic<int64_t>>(0);

  /// `o`, counted in `in_flight` for as long as anything holds it: an
  /// order a journey brings back from the store is in flight again.
  order_ptr counted(order_ptr o) const;

  /// Reserves `n` orders in `in_flight` for a submission, or says why
  /// intake does not take them now (too many in one batch, too many in
  /// flight, a full store). The check and the reservation are one atomic
  /// step, so that submissions arriving together cannot both pass it.
  /// Each reserved order is released by its order_ptr's deleter, or by the
  /// caller for an order that is not taken.
  caf::error reserve_intake(std::size_t n);

  /// Event and cancel writes not committed yet: past orders_in_flight they
  /// are refused busy, like orders, instead of growing the commit queue.
  std::shared_ptr<std::atomic<int64_t>> events_pending =
    std::make_shared<std::atomic<int64_t>>(0);

  /// Delivers journey records to subscribers, each on its own thread.
  std::unique_ptr<subscriber_hub> subscribers;

  /// Lets queued intakes finish, stops every actor, then commits the
  /// snapshots they left. Once only.
  void stop();
  bool stopped = false;

  /// stop(), then tears down the actor system.
  ~impl() override;

  int64_t now() const {
    return services->time->now_ms();
  }

  void warn(const std::string& text) const {
    if (options.warn)
      options.warn(text);
  }

  // -- start-up ---------------------------------------------------------------

  /// Loads every readable flow; a damaged one is reported and left out.
  caf::error load_flows();

  /// Resumes every journey that had not ended when the store was closed:
  /// waiting ones stay in the store (passivated) until woken, the others
  /// restart as actors. A journey whose records cannot be read is marked
  /// failed with the reason; the others go on.
  caf::error recover_journeys();

  /// Moves journey `id` to version `to` in the store; what it restarts
  /// from there, or nothing if it failed (and is recorded so).
  std::optional<restart_point> move_up(const journey_id& id, uint32_t to);

  /// Whether the order of `snap` received an event or cancel that the
  /// snapshot has not seen (or cannot be read), or its flow was stopped
  /// with --cancel-in-flight (`cancel_epoch`) since it started.
  bool has_missed_input(const journey_snapshot& snap, uint32_t cancel_epoch,
                        const journey_store::order_reader& order);

  /// The flow's cancel epoch now (0 for a flow not known).
  uint32_t cancel_epoch_of(const std::string& flow) const;

  /// Whether `snap` was in flight when its flow was stopped with
  /// --cancel-in-flight and has not taken that cancel yet.
  bool cancelled_by_stop(const journey_snapshot& snap) const;

  /// Deletes the journals whose retention is over, a batch at a time.
  caf::expected<std::size_t> expire_journals();

  /// Expires journals now and then every hour, on the engine's clock,
  /// without waiting for the commits.
  void start_sweeper();

  // -- flow versions and their supervisors (REQUIRES: mutex held) -------------

  caf::expected<flow_ptr> model_for(const std::string& name, uint32_t version);

  caf::expected<caf::actor> supervisor_for(const std::string& name,
                                           uint32_t version);

  /// Points intake at the latest version of every published flow.
  void rebuild_targets();

  std::vector<caf::actor> supervisors_of(const std::string& name) const {
    std::vector<caf::actor> result;
    for (const auto& [key, sup] : supervisors)
      if (key.first == name)
        result.push_back(sup);
    return result;
  }

  std::vector<caf::actor> all_supervisors() const {
    std::vector<caf::actor> result;
    for (const auto& kv : supervisors)
      result.push_back(kv.second);
    return result;
  }

  /// Takes a flow record the store has written as what the engine knows of
  /// the flow, its pause time included. REQUIRES: `mutex` is held.
  void keep(const flow_record& rec);

  /// The flow's own time. REQUIRES: `mutex` is held.
  flow_clock_ptr clock_of(const std::string& name);

  /// Takes a pause or resume the store has made into the running engine and
  /// tells every supervisor of the flow.
  template <class Atom>
  caf::error adopt(const std::string& name, caf::expected<flow_record> rec,
                   Atom change) {
    if (!rec)
      return rec.error();
    std::lock_guard<std::mutex> guard{mutex};
    keep(*rec);
    for (const auto& sup : supervisors_of(name))
      caf::anon_send(sup, change);
    return caf::none;
  }

  enum class journey_count { running, passivated, held };

  /// How many journeys `sup` holds in memory (running), has passivated to
  /// the store, or holds paused.
  caf::expected<std::size_t> count_on(const caf::actor& sup,
                                      journey_count which,
                                      std::chrono::seconds limit);

  /// The same for the supervisor of a flow version (0 if there is none).
  caf::expected<std::size_t> count_of(const std::string& flow, uint32_t version,
                                      journey_count which,
                                      std::chrono::seconds limit);

  // -- journey_sink -----------------------------------------------------------

  void save(const journey_snapshot& snapshot,
            const std::vector<journal_entry>& chunk,
            std::function<void(const caf::error&)> done) override;

  void journey_failed(const std::string& order_id, const std::string& flow,
                      uint32_t version, const std::string& reason) override;

  bool watches_every_change(const std::string& flow) const override {
    return subscribers->wants(false) || (hooks && hooks->wants_changes(flow));
  }

  /// What a save with no callback of its own does once committed: tell a
  /// subscriber that came while it was queued, or the journey that it
  /// failed.
  void saved(const write_result& r);

  /// Tells the journey `id`, through its supervisor, that a save of it
  /// failed (journey_sink::save).
  void save_failed(const journey_id& id, const caf::error& err);

  void move(const journey_snapshot& from, const journey_snapshot& to,
            std::function<void(const caf::error&)> done) override {
    journeys->move(from, to, std::move(done));
  }

  caf::expected<restart_point> load(const std::string& order_id,
                                    const std::string& flow,
                                    uint32_t version) override;

  /// The flow version `snapshot` runs on; null if the engine has none.
  flow_ptr model_of(const journey_snapshot& snapshot);

  /// Writes the hook deliveries of a journey marked failed (journey_failed)
  /// and hands them to the hooks once committed.
  void report_failure_to_hooks(const journey_snapshot& snapshot);

  /// Hands the record of `snapshot` to the subscribers that want it.
  void notify(journey_snapshot snapshot);

  /// Hands subscribers what the store holds of journey `id` now: for one
  /// that subscribed while a save it did not ask a copy of was queued.
  void notify_stored(const journey_id& id);

  // -- providers --------------------------------------------------------------

  caf::error add_provider(const std::string& id, const provider_config& p);

  void replace_provider(const std::string& id, caf::actor adapter,
                        const char* kind);

  // -- journeys ---------------------------------------------------------------

  /// The record of a journey; a damaged one is shown as failed, saying why.
  caf::expected<journey_record> record_of(const std::optional<journey_id>& id,
                                          caf::expected<journey_snapshot> snap);

  struct found_journey {
    journey_id id;
    journey_snapshot snapshot;
  };

  /// The one journey of `order_id` (on `flow`, if given), as stored.
  caf::expected<found_journey>
  find_journey(const std::string& order_id,
               const std::optional<std::string>& flow);
};

} // namespace orca
