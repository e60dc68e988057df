#pragma once

// orca::Engine, the embedding API: open a data directory, manage flows
// through their lifecycle, submit orders, send events and cancels, and read
// journeys by query or subscription. Every member function is safe to call
// from any thread. An Engine owns its actor system, its LMDB store and its
// writer thread; destroying it stops every actor and commits what is queued.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor_system.hpp>

#include "actors/clock.hpp"
#include "actors/embedded_provider.hpp"
#include "actors/replay.hpp"
#include "engine/node_config.hpp"
#include "engine/timeline.hpp"
#include "flows/flow_lifecycle.hpp"
#include "persistence/journal.hpp"
#include "persistence/journey_record.hpp"
#include "persistence/provider_ledger.hpp"

namespace orca {

struct engine_options {
  std::string data_dir;
  node_config config;
  /// The engine's time; the system clock if empty. Tests pass a manual_clock.
  std::shared_ptr<orca::clock> time;
  /// Threads of the actor scheduler; 0: one per core.
  std::size_t threads = 0;
  /// How the scheduler's threads find work: work stealing (CAF's default:
  /// idle threads poll each other's queues) or one shared queue that idle
  /// threads sleep on (leaves the CPU to the commit thread when idle).
  enum class scheduling : uint8_t { stealing, sharing };
  scheduling scheduler = scheduling::stealing;
  /// false: commits skip fsync (benchmarks of the engine without the disk).
  bool durable = true;
  /// The most the store may grow to (LMDB's map grows by doubling up to
  /// it); at this size intake answers busy with errc::storage_full.
  std::size_t map_size = std::size_t{64} << 30;
  /// Simulated providers keep a log of every call (simulated_calls()).
  bool record_provider_calls = false;
  /// Journeys that wait for an event leave memory until it comes.
  bool passivate_waiting = true;
  /// How long a running journey may leave its changes unsaved while its
  /// provider calls and branches are at work, when nothing watches each
  /// change (no subscription to every record, no hook on its steps or
  /// states): it saves them at once when it waits, pauses or ends, or when
  /// this time is up. A crash in between re-runs those steps from the
  /// last save, with the same idempotency keys. 0: save at every change.
  uint32_t save_delay_ms = 1000;
  /// How long the journal of an ended journey is kept (then deleted; the
  /// journey's record stays). 0: forever.
  int64_t journal_retention_ms = int64_t{30} * 24 * 3600 * 1000;
  /// Where the engine reports problems it works around (damaged records);
  /// standard error if empty.
  std::function<void(const std::string&)> warn;
  /// Called with the actor system's config before the system starts, e.g.
  /// to load CAF's middleman and register message types (orcad does).
  std::function<void(caf::actor_system_config&)> configure;
};

/// `busy`: the node did not take the order now (too many orders in flight,
/// or its store is full); nothing of it was stored, and it may be sent again.
enum class submit_status : uint8_t { accepted, duplicate, rejected, busy };

const char* to_string(submit_status status);

/// What happened to one submitted order. `accepted` means durable: the order
/// and the first state of each of its journeys are committed.
struct submit_result {
  std::string order_id; ///< empty if the order had no readable id
  submit_status status = submit_status::rejected;
  std::string error; ///< why it was rejected or not taken
  /// For `rejected`: the code of why (limit_exceeded for a §8 limit).
  errc reason = errc{};
  /// For `busy`: errc::busy or errc::storage_full, with the reason.
  caf::error refusal;
};

struct journey_query {
  std::optional<std::string> flow;
  std::optional<journey_state> state;
  std::size_t limit = 0; ///< 0: no limit
  /// Only journeys after this one in the listing's order (order id, flow,
  /// version): the next page after a page that ended with it.
  std::optional<journey_id> after;
};

/// What a replay found: the journey as recorded and as replayed.
struct replay_report {
  journey_record recorded;
  journey_record replayed; ///< on `version` (the recorded one, or another)
  uint32_t version = 0;
  std::vector<timeline_entry> timeline; ///< what the replay did
  std::optional<std::string> divergence;
};

struct provider_info {
  std::string id;
  std::string kind;
};

/// How many journeys of all flows run as actors and wait in the store.
struct journey_counts {
  uint64_t running = 0;
  uint64_t passivated = 0;
};

class Engine {
public:
  /// Opens (creating if absent) the data directory, registers providers,
  /// starts a supervisor for every published flow and resumes every journey
  /// that had not ended.
  static caf::expected<std::unique_ptr<Engine>> open(engine_options options);

  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// The node config it was opened with: providers, limits, sources.
  const node_config& config() const;

  /// The hooks of the config, with their backlog and counts (SPEC §9).
  std::vector<hook_status> hooks() const;

  // -- flows (SPEC §2.4) ------------------------------------------------------

  /// `origin` names the definition in errors, usually its file name.
  caf::expected<flow_record> create_flow(std::string_view json,
                                         const std::string& origin = "flow");
  caf::expected<flow_record> update_flow(std::string_view json,
                                         const std::string& origin = "flow");
  /// Returns the version new orders now go to.
  caf::expected<uint32_t> publish_flow(const std::string& name);
  caf::error stop_flow(const std::string& name, bool cancel_in_flight = false);
  caf::error pause_flow(const std::string& name);
  caf::error resume_flow(const std::string& name);
  caf::expected<std::vector<flow_record>> list_flows();
  caf::expected<flow_record> get_flow(const std::string& name);
  /// The draft of flow `name` as publish would take it: with a copy of each
  /// library policy it uses and does not define. An error if it has no
  /// draft, or says what publish would refuse (a damaged library policy, a
  /// name both define).
  caf::expected<std::string> resolved_draft(const std::string& name);
  /// The same, for the flow whose record the caller read already.
  caf::expected<std::string> resolved_draft(const flow_record& rec);
  caf::expected<flow_version_record> flow_version(const std::string& name,
                                                  uint32_t version);

  // -- the policy library (SPEC §2.2) -----------------------------------------

  /// Puts the policies of a library file into the node's library; returns
  /// them. They apply to flows at their next create, update or publish.
  caf::expected<policy_library>
  put_policies(std::string_view json, const std::string& origin = "policies");
  caf::expected<policy_library> list_policies();
  caf::expected<library_policy> get_policy(const std::string& name);
  /// Returns the policy deleted.
  caf::expected<library_policy> delete_policy(const std::string& name);

  // -- providers (SPEC §3) ----------------------------------------------------

  /// Registers (or replaces) provider `id`.
  caf::error register_provider(const std::string& id,
                               const provider_config& config);
  caf::error register_embedded_provider(const std::string& id,
                                        embedded_function fn,
                                        uint32_t workers = 4);
  std::vector<provider_info> providers() const;

  /// Makes `client` (a remote actor client) the provider `id`: calls go to it
  /// until it goes away or another client registers as `id`. An id the node
  /// runs as another kind (simulated, http, embedded) is refused with
  /// errc::provider_taken.
  caf::error register_remote_provider(const std::string& id, caf::actor client);

  /// The ledger of the simulated provider `id` (kept when its config says
  /// "ledger": true): every idempotency key it carried out.
  caf::expected<std::map<std::string, ledger_entry>>
  provider_ledger_of(const std::string& id) const;

  /// What the simulated provider `id` was asked, or null for other kinds.
  std::shared_ptr<call_log> simulated_calls(const std::string& id) const;

  // -- orders -----------------------------------------------------------------

  /// Returns once the order is durable (accepted), known (duplicate), or
  /// refused (rejected, with the field named in `error`).
  submit_result submit(std::string_view order_json);

  /// Many orders, committed together; results in the same order.
  std::vector<submit_result>
  submit_batch(const std::vector<std::string>& orders);

  /// Like submit_batch, but returns at once; `done` runs on an internal
  /// thread when every order has its result. A whole batch is `busy` when
  /// taking it would put more than `limits.orders_in_flight` orders in
  /// flight (accepted, with a journey in memory), or when the store is full.
  void submit_async(std::vector<std::string> orders,
                    std::function<void(std::vector<submit_result>)> done);

  /// Records event `type` for the order (durably) and delivers it to the
  /// order's journeys. `cancel_order` cancels them.
  caf::error event(const std::string& order_id, const std::string& type);

  /// Same as event(order_id, "cancel_order").
  caf::error cancel(const std::string& order_id);

  /// Many events (order id, type), committed together; `done` runs on an
  /// internal thread with one result per event, in the same order.
  void events_async(std::vector<std::pair<std::string, std::string>> events,
                    std::function<void(std::vector<caf::error>)> done);

  // -- journeys ---------------------------------------------------------------

  /// Every journey of an order, one per flow version that took it.
  caf::expected<std::vector<journey_record>>
  journeys(const std::string& order_id);

  caf::expected<std::vector<journey_record>>
  list_journeys(const journey_query& q);

  /// Restarts a failed journey from the steps that failed it, with fresh
  /// attempt counts and new idempotency keys, keeping its history. `flow`
  /// may be omitted when the order has one journey.
  caf::expected<journey_record> redrive(const std::string& order_id,
                                        const std::optional<std::string>& flow);

  /// Runs a journey's journal back through its flow version (or through
  /// `against_version` of the same flow) with the recorded provider answers,
  /// sending nothing, and reports where it would diverge.
  caf::expected<replay_report>
  replay(const std::string& order_id, const std::optional<std::string>& flow,
         std::optional<uint32_t> against_version = std::nullopt);

  /// The journal of a journey as a timeline (step names resolved).
  caf::expected<std::vector<timeline_entry>>
  timeline(const std::string& order_id, const std::string& flow,
           uint32_t version);

  /// The journal of one journey, oldest entry first.
  caf::expected<std::vector<journal_entry>> journal(const std::string& order_id,
                                                    const std::string& flow,
                                                    uint32_t version);

  using subscriber = std::function<void(const journey_record&)>;

  /// Calls `fn` with a journey's record every time a change of it is
  /// durable (or only when it reached a terminal state), in commit order,
  /// on a thread of this subscription's own: a slow `fn` delays only its
  /// own updates (past 65,536 waiting, newer ones are dropped, counted and
  /// reported through `warn`), an exception it throws is reported, and it
  /// may call the engine. Returns an id for unsubscribe.
  uint64_t subscribe(subscriber fn, bool terminal_only = false);
  void unsubscribe(uint64_t id);

  /// How many updates subscription `id` missed by falling behind.
  uint64_t dropped_updates(uint64_t id) const;

  /// Journeys of a flow version running as actors.
  caf::expected<std::size_t> running_journeys(const std::string& flow,
                                              uint32_t version);

  /// Journeys of a flow version held by a pause (state paused).
  caf::expected<std::size_t> held_journeys(const std::string& flow,
                                           uint32_t version);

  /// Journeys of a flow version that wait in the store (passivated).
  caf::expected<std::size_t> passivated_journeys(const std::string& flow,
                                                 uint32_t version);

  /// The supervisor actor of a flow version (see actors/supervisor.hpp for
  /// its protocol), or an invalid handle if it is not running.
  caf::actor supervisor_of(const std::string& flow, uint32_t version);

  caf::expected<journey_counts> count_journeys();

  /// Blocks until everything queued for the store is committed and every
  /// subscriber has been handed what that commit reported.
  void flush();

  /// Blocks until the engine is still: nothing queued for the store, no
  /// subscriber update pending, and no actor with a message to handle. For
  /// a program that moves a manual clock (engine_options::time): its next
  /// timer should fire only once what the last one started has settled.
  /// Work that waits on threads outside the engine's (an HTTP provider's
  /// call) is not waited for. False if it did not settle `within`.
  bool settle(std::chrono::milliseconds within);

  /// Commits what is queued and stops every actor, so that everything
  /// accepted is in the store; the engine takes no more work. What is left
  /// is tearing down the actor system, which the destructor does. A process
  /// about to exit may skip that (std::_Exit) once stop() has returned.
  void stop();

  /// Deletes the journals whose retention is over (the engine also does it
  /// hourly); returns how many journeys' journals went.
  caf::expected<std::size_t> expire_journals();

  struct storage_stats {
    uint64_t commits = 0;      ///< LMDB transactions committed
    uint64_t requests = 0;     ///< write requests they carried
    uint64_t ops = 0;          ///< puts, deletes and updates in them
    uint64_t map_size = 0;     ///< the LMDB map's size now
    uint64_t max_map_size = 0; ///< the most it may grow to
    bool full = false;         ///< the last write found it full at the maximum
    uint64_t orders_in_flight = 0;
  };

  storage_stats storage() const;

  /// Every metric of the engine in Prometheus' text format (GET /metrics).
  std::string metrics_text();

  caf::actor_system& system();

  struct impl;

private:
  caf::expected<std::vector<journey_record>>
  list_journeys_with(const std::string& prefix, const journey_query& q);
  /// A listing by flow or state, read from the journey_states index.
  caf::expected<std::vector<journey_record>>
  list_indexed(const journey_query& q);

  explicit Engine(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

} // namespace orca
