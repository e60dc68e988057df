#pragma once

// An Engine on a fresh data directory with a manual clock, plus a watch on
// every journey update, for tests that drive orders through flows.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "engine/engine.hpp"
#include "support/files.hpp"
#include "support/orders.hpp"
#include "support/wait.hpp"

namespace orca::test {

/// The latest record of every journey, from a subscription.
class journey_watch {
public:
  void update(const journey_record& r) {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      latest_[key(r.order_id, r.flow, r.version)] = r;
      ++updates_;
    }
    changed_.notify_all();
  }

  /// Forgets every record (an engine reopened: they may be stale).
  void clear() {
    std::lock_guard<std::mutex> guard{mutex_};
    latest_.clear();
  }

  /// Takes `r` unless an update of its journey came in already.
  void seed(const journey_record& r) {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      if (!latest_.emplace(key(r.order_id, r.flow, r.version), r).second)
        return;
      ++updates_;
    }
    changed_.notify_all();
  }

  std::optional<journey_record> find(const std::string& order_id,
                                     const std::string& flow,
                                     uint32_t version = 0) const {
    std::lock_guard<std::mutex> guard{mutex_};
    for (const auto& kv : latest_)
      if (kv.second.order_id == order_id && kv.second.flow == flow
          && (version == 0 || kv.second.version == version))
        return kv.second;
    return std::nullopt;
  }

  /// Waits (in real time, for other threads) until `pred` holds for the
  /// watch, or `limit` passes.
  bool wait(const std::function<bool()>& pred,
            std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> guard{mutex_};
    return changed_.wait_for(guard, limit, [&] {
      guard.unlock();
      bool ok = pred();
      guard.lock();
      return ok;
    });
  }

  std::size_t updates() const {
    std::lock_guard<std::mutex> guard{mutex_};
    return updates_;
  }

private:
  static std::string key(const std::string& o, const std::string& f,
                         uint32_t v) {
    return o + "\n" + f + "\n" + std::to_string(v);
  }

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, journey_record> latest_;
  std::size_t updates_ = 0;
};

struct engine_fixture {
  temp_dir dir;
  std::shared_ptr<manual_clock> clock = std::make_shared<manual_clock>();
  journey_watch watch;
  std::unique_ptr<Engine> engine;
  /// Journal retention; 0 (keep) so that no hourly sweep timer mixes with
  /// the timers a test counts.
  int64_t retention_ms = 0;

  /// real_time: the engine runs on the system clock (for tests with real
  /// network peers); otherwise on `clock`, which only wait_for moves.
  explicit engine_fixture(node_config config = {}, bool real_time = false,
                          bool passivate = true)
      : real_time_(real_time), passivate_(passivate) {
    open(std::move(config));
  }

  void open(node_config config = {}) {
    engine_options opts;
    opts.data_dir = dir.path();
    opts.config = std::move(config);
    if (!real_time_)
      opts.time = clock;
    opts.threads = 2;
    opts.durable = false;
    opts.record_provider_calls = true;
    opts.passivate_waiting = passivate_;
    opts.journal_retention_ms = retention_ms;
    auto e = Engine::open(std::move(opts));
    if (!e)
      FAIL("cannot open the engine: " << describe(e.error()));
    engine = std::move(*e);
    // Journeys recovered at open may change, even end, before the
    // subscription exists: the watch starts from the store, and updates
    // that come in meanwhile win over what the store said.
    watch.clear();
    engine->subscribe([this](const journey_record& r) { watch.update(r); });
    if (auto all = engine->list_journeys({}))
      for (const auto& r : *all)
        watch.seed(r);
  }

  void close() {
    engine.reset();
  }

  /// Creates and publishes a flow; returns its version.
  uint32_t publish(const std::string& json) {
    auto created = engine->create_flow(json, "test flow");
    if (!created)
      FAIL("create: " << describe(created.error()));
    auto version = engine->publish_flow(created->name);
    if (!version)
      FAIL("publish: " << describe(version.error()));
    return *version;
  }

  uint32_t publish_example(const std::string& file) {
    return publish(example(file));
  }

  submit_result submit(const std::string& json) {
    return engine->submit(json);
  }

  /// The example order with id `id` (see support/orders.hpp).
  static std::string example_order(const std::string& id) {
    return test::example_order(id);
  }

  /// Waits until the journey of `order_id` on `flow` satisfies `pred`,
  /// firing due timers of the manual clock whenever the engine waits for
  /// time. Fails the test after 10 s of real time.
  journey_record
  wait_for(const std::string& order_id, const std::string& flow,
           const std::function<bool(const journey_record&)>& pred,
           uint32_t version = 0) {
    std::optional<journey_record> r;
    auto got_there = eventually(
      [&] {
        r = watch.find(order_id, flow, version);
        if (r && pred(*r))
          return true;
        auto before = watch.updates();
        watch.wait([&] { return watch.updates() != before; },
                   std::chrono::milliseconds(2));
        if (watch.updates() == before && !real_time_) {
          // Fire the next timer only when the engine has settled: a
          // provider's answer still in a journey's mailbox, or a journey
          // slow to commit, must not see its own timers fire early. (An
          // engine kept busy for a second is let go on.)
          engine->settle(std::chrono::seconds(1));
          if (watch.updates() == before)
            clock->fire_next();
        }
        return false;
      },
      std::chrono::seconds(10),
      std::chrono::milliseconds(0)); // it waits itself
    if (got_there)
      return *r;
    FAIL("journey " << order_id << " on " << flow
                    << " did not get there; last: "
                    << (r ? to_json(*r) : std::string{"none"}));
    return {};
  }

  journey_record wait_state(const std::string& order_id,
                            const std::string& flow, journey_state state,
                            uint32_t version = 0) {
    return wait_for(
      order_id, flow,
      [state](const journey_record& r) { return r.state == state; }, version);
  }

  journey_record wait_terminal(const std::string& order_id,
                               const std::string& flow, uint32_t version = 0) {
    return wait_for(
      order_id, flow,
      [](const journey_record& r) { return is_terminal(r.state); }, version);
  }

  /// Waits until the supervisor of a flow version runs `n` journeys.
  void wait_running(const std::string& flow, uint32_t version, std::size_t n) {
    if (eventually([&] {
          auto running = engine->running_journeys(flow, version);
          return running && *running == n;
        }))
      return;
    FAIL("flow " << flow << " version " << version << " does not run " << n
                 << " journeys");
  }

  /// Waits until every journey of a flow version is out of memory, `n` of
  /// them waiting in the store.
  void wait_passivated(const std::string& flow, uint32_t version,
                       std::size_t n) {
    if (eventually([&] {
          auto sleeping = engine->passivated_journeys(flow, version);
          auto running = engine->running_journeys(flow, version);
          return sleeping && running && *sleeping == n && *running == 0;
        }))
      return;
    FAIL("flow " << flow << " version " << version << " does not have " << n
                 << " passivated journeys");
  }

private:
  bool real_time_ = false;
  bool passivate_ = true;
};

/// The step named `name` in a record, or nullptr.
inline const step_entry* step_named(const journey_record& r,
                                    const std::string& name) {
  for (const auto& s : r.steps)
    if (s.name == name)
      return &s;
  return nullptr;
}

/// A node config with `notify` registered as a simulated provider, and
/// optionally other simulated providers replaced.
inline node_config
with_notify(std::map<std::string, simulated_config> overrides = {}) {
  node_config config;
  config.providers["notify"] = provider_config{};
  for (auto& [id, sim] : overrides) {
    provider_config p;
    p.simulated = std::move(sim);
    config.providers[id] = std::move(p);
  }
  return config;
}

} // namespace orca::test
