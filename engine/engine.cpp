#include "engine/engine.hpp"

#include <atomic>
#include <future>
#include <iostream>
#include <map>
#include <mutex>

#include <caf/all.hpp>

#include "actors/journey_protocol.hpp"
#include "actors/redrive.hpp"
#include "actors/remote_provider.hpp"
#include "actors/services.hpp"
#include "actors/supervisor.hpp"
#include "persistence/flow_store.hpp"
#include "persistence/group_commit.hpp"
#include "persistence/journey_store.hpp"
#include "persistence/lmdb_store.hpp"
#include "persistence/records.hpp"

namespace orca {

const char* to_string(submit_status status) {
  switch (status) {
    case submit_status::accepted: return "accepted";
    case submit_status::duplicate: return "duplicate";
    case submit_status::rejected: return "rejected";
  }
  return "?";
}

namespace {

using version_key = std::pair<std::string, uint32_t>;

/// A flow version that new orders go to.
struct intake_target {
  std::string flow;
  uint32_t version = 0;
  caf::actor supervisor;
};

using target_list = std::vector<intake_target>;

struct subscription {
  Engine::subscriber fn;
  bool terminal_only = false;
};

} // namespace

struct Engine::impl final : journey_sink {
  engine_options options;
  std::unique_ptr<store> db;
  std::unique_ptr<flow_store> flows;
  std::unique_ptr<group_committer> writer;
  std::unique_ptr<journey_store> journeys;
  std::unique_ptr<provider_ledger> ledger;
  std::unique_ptr<caf::actor_system_config> cfg;
  std::unique_ptr<caf::actor_system> system;
  services_ptr services;

  // Guards the maps below.
  mutable std::mutex mutex;
  std::map<version_key, flow_ptr> models;
  std::map<version_key, caf::actor> supervisors;
  std::map<std::string, flow_record> records;
  std::map<std::string, std::shared_ptr<call_log>> logs;
  std::shared_ptr<const target_list> targets = std::make_shared<target_list>();

  std::mutex subscribers_mutex;
  std::map<uint64_t, subscription> subscribers;
  uint64_t next_subscription = 1;
  std::atomic<int> all_subscribers{0};
  std::atomic<int> terminal_subscribers{0};

  caf::expected<journey_record> record_of(const std::optional<journey_id>& id,
                                          caf::expected<journey_snapshot> snap);

  caf::expected<journey_id> find_journey(const std::string& order_id,
                                         const std::optional<std::string>& flow);

  ~impl() override {
    if (!system)
      return;
    // Let queued intakes finish (their callbacks start journeys), then stop
    // every actor, then commit the snapshots they left.
    writer->flush();
    {
      std::lock_guard<std::mutex> guard{mutex};
      for (const auto& kv : supervisors)
        caf::anon_send_exit(kv.second, caf::exit_reason::user_shutdown);
    }
    for (const auto& p : services->providers.list())
      caf::anon_send_exit(p.adapter, caf::exit_reason::user_shutdown);
    if (sweeper)
      caf::anon_send_exit(sweeper, caf::exit_reason::user_shutdown);
    system->await_all_actors_done();
    writer.reset();
    // The actor system waits for detached actors until the last handle to
    // them is gone: drop every handle before it goes.
    sweeper = nullptr;
    {
      std::lock_guard<std::mutex> guard{mutex};
      supervisors.clear();
      targets = std::make_shared<target_list>();
    }
    services->providers.clear();
    system.reset();
  }

  int64_t now() const {
    return services->time->now_ms();
  }

  /// Deletes the journals whose retention is over, a batch at a time.
  caf::expected<std::size_t> expire_journals() {
    if (options.journal_retention_ms <= 0)
      return std::size_t{0};
    std::size_t total = 0;
    for (;;) {
      std::promise<caf::expected<std::size_t>> done;
      journeys->expire_journals(
        now() - options.journal_retention_ms, 10000,
        [&done](caf::expected<std::size_t> n) { done.set_value(std::move(n)); });
      auto n = done.get_future().get();
      if (!n)
        return n.error();
      total += *n;
      if (*n == 0)
        return total;
    }
  }

  /// Expires journals now and then every hour, on the engine's clock,
  /// without waiting for the commits.
  void start_sweeper() {
    constexpr uint32_t hour_ms = 3600 * 1000;
    auto self = this;
    sweeper = system->spawn([self](caf::event_based_actor* me) -> caf::behavior {
      self->services->time->schedule(0, caf::actor_cast<caf::actor>(me), 0);
      return {
        [self, me](timer_atom, uint64_t) {
          constexpr std::size_t batch = 10000;
          auto handle = caf::actor_cast<caf::actor>(me);
          self->journeys->expire_journals(
            self->now() - self->options.journal_retention_ms, batch,
            [self, handle](caf::expected<std::size_t> n) {
              if (!n)
                self->warn("cannot expire journals: " + describe(n.error()));
              // A full batch: there may be more; go on at once.
              self->services->time->schedule(n && *n == batch ? 0 : hour_ms,
                                             handle, 0);
            });
        },
      };
    });
  }

  caf::actor sweeper;

  // -- flow versions and their supervisors (REQUIRES: mutex held) -------------

  caf::expected<flow_ptr> model_for(const std::string& name,
                                    uint32_t version) {
    auto key = version_key{name, version};
    if (auto it = models.find(key); it != models.end())
      return it->second;
    auto frozen = flows->version(name, version);
    if (!frozen)
      return frozen.error();
    auto parsed = parse_flow_or_error(frozen->definition,
                                      "flow " + quote(name) + " version "
                                        + std::to_string(version));
    if (!parsed)
      return parsed.error();
    models.emplace(key, *parsed);
    return *parsed;
  }

  caf::expected<caf::actor> supervisor_for(const std::string& name,
                                           uint32_t version) {
    auto key = version_key{name, version};
    if (auto it = supervisors.find(key); it != supervisors.end())
      return it->second;
    auto model = model_for(name, version);
    if (!model)
      return model.error();
    auto rec = records.find(name);
    bool paused = rec != records.end() && rec->second.paused;
    auto sup = spawn_supervisor(*system, services, *model, version, paused);
    supervisors.emplace(key, sup);
    return sup;
  }

  void rebuild_targets() {
    auto next = std::make_shared<target_list>();
    for (const auto& [name, rec] : records) {
      if (rec.status != flow_status::published)
        continue;
      auto sup = supervisor_for(name, rec.latest_version);
      if (sup)
        next->push_back({name, rec.latest_version, *sup});
    }
    std::atomic_store(&targets,
                      std::shared_ptr<const target_list>{std::move(next)});
  }

  std::vector<caf::actor> supervisors_of(const std::string& name) const {
    std::vector<caf::actor> result;
    for (const auto& [key, sup] : supervisors)
      if (key.first == name)
        result.push_back(sup);
    return result;
  }

  /// Takes a pause or resume the store has made into the running engine and
  /// tells every supervisor of the flow.
  template <class Atom>
  caf::error adopt(const std::string& name, caf::expected<flow_record> rec,
                   Atom change) {
    if (!rec)
      return rec.error();
    std::lock_guard<std::mutex> guard{mutex};
    records[name] = *rec;
    for (const auto& sup : supervisors_of(name))
      caf::anon_send(sup, change);
    return caf::none;
  }

  /// How many journeys `sup` holds in memory or, with `passivated`, has
  /// passivated to the store.
  caf::expected<std::size_t> count_on(const caf::actor& sup, bool passivated,
                                      std::chrono::seconds limit) {
    caf::scoped_actor self{*system};
    caf::expected<std::size_t> result = std::size_t{0};
    auto on_count = [&](std::size_t n) { result = n; };
    auto on_error = [&](caf::error& err) { result = std::move(err); };
    if (passivated)
      self->request(sup, limit, count_atom::value, passivate_atom::value)
        .receive(on_count, on_error);
    else
      self->request(sup, limit, count_atom::value).receive(on_count, on_error);
    return result;
  }

  std::vector<caf::actor> all_supervisors() const {
    std::vector<caf::actor> result;
    for (const auto& kv : supervisors)
      result.push_back(kv.second);
    return result;
  }

  // -- journey_sink -----------------------------------------------------------

  void save(const journey_snapshot& snapshot,
            const std::vector<journal_entry>& chunk,
            std::function<void()> durable) override {
    bool wanted = all_subscribers.load() > 0
                  || (terminal_subscribers.load() > 0
                      && is_terminal(snapshot.state));
    std::function<void(bool)> done;
    if (wanted)
      done = [this, copy = snapshot, durable = std::move(durable)](bool ok) {
        if (!ok)
          return;
        notify(copy);
        if (durable)
          durable();
      };
    else if (durable)
      done = [durable = std::move(durable)](bool ok) {
        if (ok)
          durable();
      };
    journeys->save(snapshot, chunk, std::move(done));
  }

  void journey_failed(const std::string& order_id, const std::string& flow,
                      uint32_t version, const std::string& reason) override {
    warn("journey of order " + quote(order_id) + " on flow " + quote(flow)
         + " version " + std::to_string(version) + " failed: " + reason);
    journeys->mark_failed({order_id, flow, version}, reason, now(),
                          [this](std::optional<journey_snapshot> snap) {
                            if (snap)
                              notify(*snap);
                          });
  }

  caf::expected<restart_point> load(const std::string& order_id,
                                    const std::string& flow,
                                    uint32_t version) override {
    return journeys->load_for_restart({order_id, flow, version});
  }

  void warn(const std::string& text) const {
    if (options.warn)
      options.warn(text);
  }

  void notify(const journey_snapshot& snapshot) {
    flow_ptr model;
    {
      std::lock_guard<std::mutex> guard{mutex};
      auto m = model_for(snapshot.flow, snapshot.version);
      if (!m)
        return;
      model = *m;
    }
    auto record = make_record(snapshot, *model);
    std::vector<subscription> copy;
    {
      std::lock_guard<std::mutex> guard{subscribers_mutex};
      for (const auto& kv : subscribers)
        copy.push_back(kv.second);
    }
    for (const auto& s : copy)
      if (!s.terminal_only || is_terminal(record.state))
        s.fn(record);
  }

  // -- providers --------------------------------------------------------------

  caf::error add_provider(const std::string& id, const provider_config& p) {
    caf::actor adapter;
    switch (p.kind) {
      case provider_kind::simulated: {
        std::shared_ptr<call_log> log;
        if (options.record_provider_calls)
          log = std::make_shared<call_log>();
        adapter = spawn_simulated_provider(*system, services, id, p.simulated,
                                           log);
        std::lock_guard<std::mutex> guard{mutex};
        logs[id] = log;
        break;
      }
      case provider_kind::http: {
        if (auto url = parse_http_url(p.http.url); !url)
          return url.error();
        adapter = spawn_http_provider(*system, p.http);
        break;
      }
      case provider_kind::remote:
        adapter = spawn_remote_provider(*system, id);
        break;
      default:
        return make_error(errc::invalid_config,
                          "provider " + quote(id) + ": kind "
                            + to_string(p.kind)
                            + " cannot be registered from a config");
    }
    replace_provider(id, adapter, to_string(p.kind));
    return caf::none;
  }

  void replace_provider(const std::string& id, caf::actor adapter,
                        const char* kind) {
    auto old = services->providers.find(id);
    services->providers.add(id, std::move(adapter), kind);
    if (old)
      caf::anon_send_exit(old, caf::exit_reason::user_shutdown);
  }

  // -- start-up ---------------------------------------------------------------

  /// Loads every readable flow; a damaged one is reported and left out.
  caf::error load_flows() {
    std::lock_guard<std::mutex> guard{mutex};
    auto err = flows->scan([this](const std::string& name,
                                  caf::expected<flow_record> rec) {
      if (rec)
        records[name] = std::move(*rec);
      else
        warn("flow " + quote(name) + " is left out: " + describe(rec.error()));
      return true;
    });
    rebuild_targets();
    return err;
  }

  /// Resumes every journey that had not ended when the store was closed:
  /// waiting ones stay in the store (passivated) until woken, the others
  /// restart as actors. A journey whose records cannot be read is marked
  /// failed with the reason; the others go on.
  caf::error recover_journeys() {
    std::vector<std::pair<journey_id, std::string>> damaged;
    std::vector<journey_id> restart;
    std::vector<std::pair<journey_id, int64_t>> sleeping;
    auto err = journeys->scan(
      "", [&](const std::optional<journey_id>& id,
              caf::expected<journey_snapshot> snap) {
        if (!snap) {
          if (id)
            damaged.emplace_back(*id, describe(snap.error()));
          else
            warn("skipping an unreadable journey key: "
                 + describe(snap.error()));
          return true;
        }
        if (is_terminal(snap->state))
          return true;
        journey_id jid{snap->order_id, snap->flow, snap->version};
        if (snap->state == journey_state::waiting
            && services->passivate_waiting) {
          int64_t wake_at = 0;
          for (const auto& p : snap->paths)
            if (p.phase == path_phase::waiting_event && p.deadline > 0
                && (wake_at == 0 || p.deadline < wake_at))
              wake_at = p.deadline;
          sleeping.emplace_back(std::move(jid), wake_at);
        } else {
          restart.push_back(std::move(jid));
        }
        return true;
      });
    if (err)
      return err;
    for (const auto& [id, why] : damaged)
      journey_failed(id.order_id, id.flow, id.version,
                     "its record is damaged: " + why);
    for (const auto& [id, wake_at] : sleeping) {
      std::lock_guard<std::mutex> guard{mutex};
      auto sup = supervisor_for(id.flow, id.version);
      if (!sup) {
        journey_failed(id.order_id, id.flow, id.version,
                       "its flow version cannot be loaded: "
                         + describe(sup.error()));
        continue;
      }
      caf::anon_send(*sup, passivate_atom::value, id.order_id, wake_at);
    }
    for (const auto& id : restart) {
      auto loaded = journeys->load_for_restart(id);
      if (!loaded) {
        journey_failed(id.order_id, id.flow, id.version,
                       "cannot resume it: " + describe(loaded.error()));
        continue;
      }
      std::lock_guard<std::mutex> guard{mutex};
      auto sup = supervisor_for(id.flow, id.version);
      if (!sup) {
        journey_failed(id.order_id, id.flow, id.version,
                       "its flow version cannot be loaded: "
                         + describe(sup.error()));
        continue;
      }
      caf::anon_send(*sup, start_atom::value, loaded->the_order,
                     std::move(loaded->snapshot));
      for (const auto& type : loaded->missed_events)
        caf::anon_send(*sup, event_atom::value, id.order_id, type);
      if (loaded->missed_cancel)
        caf::anon_send(*sup, cancel_atom::value, id.order_id);
    }
    return caf::none;
  }
};

// -- Engine -------------------------------------------------------------------

Engine::Engine(std::unique_ptr<impl> state) : impl_(std::move(state)) {
}

Engine::~Engine() = default;

caf::expected<std::unique_ptr<Engine>> Engine::open(engine_options options) {
  auto im = std::make_unique<impl>();
  im->options = std::move(options);
  if (!im->options.warn)
    im->options.warn = [](const std::string& text) {
      std::cerr << "orca: warning: " << text << '\n';
    };
  store::options store_opts;
  store_opts.durable = im->options.durable;
  auto db = store::open(im->options.data_dir, store_opts);
  if (!db)
    return db.error();
  im->db = std::move(*db);
  im->flows = std::make_unique<flow_store>(*im->db);
  im->writer = std::make_unique<group_committer>(*im->db);
  im->journeys = std::make_unique<journey_store>(*im->db, *im->writer);
  im->ledger = std::make_unique<provider_ledger>(*im->db, *im->writer);
  im->cfg = std::make_unique<caf::actor_system_config>();
  auto threads = im->options.threads;
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  im->cfg->set("scheduler.max-threads", threads);
  if (im->options.configure)
    im->options.configure(*im->cfg);
  im->system = std::make_unique<caf::actor_system>(*im->cfg);
  im->services = std::make_shared<journey_services>();
  im->services->time = im->options.time ? im->options.time
                                        : make_system_clock();
  im->services->sink = im.get();
  im->services->ledger = im->ledger.get();
  im->services->passivate_waiting = im->options.passivate_waiting;
  for (const auto& id : default_provider_ids())
    if (auto err = im->add_provider(id, provider_config{}))
      return err;
  for (const auto& [id, p] : im->options.config.providers)
    if (auto err = im->add_provider(id, p))
      return err;
  if (auto err = im->load_flows())
    im->warn("cannot read every flow: " + describe(err));
  if (auto err = im->recover_journeys())
    return err;
  if (im->options.journal_retention_ms > 0)
    im->start_sweeper();
  return std::unique_ptr<Engine>{new Engine(std::move(im))};
}

caf::actor_system& Engine::system() {
  return *impl_->system;
}

void Engine::flush() {
  impl_->writer->flush();
}

caf::expected<std::size_t> Engine::expire_journals() {
  return impl_->expire_journals();
}

Engine::storage_stats Engine::storage() const {
  auto st = impl_->writer->statistics();
  return {st.commits, st.requests, st.ops};
}

// -- flows --------------------------------------------------------------------

caf::expected<flow_record> Engine::create_flow(std::string_view json,
                                               const std::string& origin) {
  auto rec = impl_->flows->create(json, origin, impl_->now());
  if (rec) {
    std::lock_guard<std::mutex> guard{impl_->mutex};
    impl_->records[rec->name] = *rec;
  }
  return rec;
}

caf::expected<flow_record> Engine::update_flow(std::string_view json,
                                               const std::string& origin) {
  auto rec = impl_->flows->update(json, origin, impl_->now());
  if (rec) {
    std::lock_guard<std::mutex> guard{impl_->mutex};
    impl_->records[rec->name] = *rec;
  }
  return rec;
}

caf::expected<uint32_t> Engine::publish_flow(const std::string& name) {
  auto outcome = impl_->flows->publish(name, impl_->services->providers.ids(),
                                       impl_->now());
  if (!outcome)
    return outcome.error();
  std::lock_guard<std::mutex> guard{impl_->mutex};
  impl_->records[name] = outcome->flow;
  if (auto sup = impl_->supervisor_for(name, outcome->version); !sup)
    return sup.error();
  impl_->rebuild_targets();
  return outcome->version;
}

caf::error Engine::stop_flow(const std::string& name, bool cancel_in_flight) {
  auto rec = impl_->flows->stop(name, impl_->now());
  if (!rec)
    return rec.error();
  std::lock_guard<std::mutex> guard{impl_->mutex};
  impl_->records[name] = *rec;
  impl_->rebuild_targets();
  if (cancel_in_flight)
    for (const auto& sup : impl_->supervisors_of(name))
      caf::anon_send(sup, stop_atom::value, true);
  return caf::none;
}

caf::error Engine::pause_flow(const std::string& name) {
  return impl_->adopt(name, impl_->flows->pause(name, impl_->now()),
                      pause_atom::value);
}

caf::error Engine::resume_flow(const std::string& name) {
  return impl_->adopt(name, impl_->flows->resume(name, impl_->now()),
                      resume_atom::value);
}

caf::expected<std::vector<flow_record>> Engine::list_flows() {
  return impl_->flows->list();
}

caf::expected<flow_record> Engine::get_flow(const std::string& name) {
  return impl_->flows->get(name);
}

caf::expected<flow_version_record> Engine::flow_version(const std::string& name,
                                                        uint32_t version) {
  return impl_->flows->version(name, version);
}

// -- providers ----------------------------------------------------------------

caf::error Engine::register_provider(const std::string& id,
                                     const provider_config& config) {
  if (id.empty())
    return make_error(errc::invalid_argument, "a provider id must not be empty");
  return impl_->add_provider(id, config);
}

caf::error Engine::register_embedded_provider(const std::string& id,
                                              embedded_function fn,
                                              uint32_t workers) {
  if (id.empty())
    return make_error(errc::invalid_argument, "a provider id must not be empty");
  if (!fn)
    return make_error(errc::invalid_argument,
                      "provider " + quote(id) + ": the function is empty");
  impl_->replace_provider(id, spawn_embedded_provider(*impl_->system,
                                                      std::move(fn), workers),
                          "embedded");
  return caf::none;
}

caf::error Engine::register_remote_provider(const std::string& id,
                                            caf::actor client) {
  if (id.empty())
    return make_error(errc::invalid_argument, "a provider id must not be empty");
  for (const auto& e : impl_->services->providers.list())
    if (e.id == id && e.kind == "remote") {
      caf::anon_send(e.adapter, connect_atom::value, std::move(client));
      return caf::none;
    }
  auto adapter = spawn_remote_provider(*impl_->system, id);
  caf::anon_send(adapter, connect_atom::value, std::move(client));
  impl_->replace_provider(id, adapter, "remote");
  return caf::none;
}

std::vector<provider_info> Engine::providers() const {
  std::vector<provider_info> result;
  for (const auto& e : impl_->services->providers.list())
    result.push_back({e.id, e.kind});
  return result;
}

caf::expected<std::map<std::string, ledger_entry>>
Engine::provider_ledger_of(const std::string& id) const {
  return impl_->ledger->entries(id);
}

std::shared_ptr<call_log> Engine::simulated_calls(const std::string& id) const {
  std::lock_guard<std::mutex> guard{impl_->mutex};
  auto it = impl_->logs.find(id);
  return it == impl_->logs.end() ? nullptr : it->second;
}

// -- orders -------------------------------------------------------------------

void Engine::submit_async(std::vector<std::string> orders,
                          std::function<void(std::vector<submit_result>)> done) {
  auto results = std::make_shared<std::vector<submit_result>>(orders.size());
  auto targets = std::atomic_load(&impl_->targets);
  auto now = impl_->now();
  std::vector<write_request> requests;
  std::vector<std::size_t> positions;
  for (std::size_t i = 0; i < orders.size(); ++i) {
    auto parsed = order::parse(orders[i]);
    if (!parsed) {
      (*results)[i].order_id = order_id_of(orders[i]);
      (*results)[i].status = submit_status::rejected;
      (*results)[i].error = describe(parsed.error());
      continue;
    }
    auto o = std::make_shared<const order>(std::move(*parsed));
    (*results)[i].order_id = o->id();
    order_record rec;
    rec.id = o->id();
    rec.text = o->text();
    rec.received_on = now;
    write_request req;
    req.ops.push_back(write_op::put_new(impl_->db->orders, o->id(), encode(rec)));
    std::vector<std::pair<caf::actor, journey_snapshot>> starts;
    for (const auto& t : *targets) {
      journey_snapshot snap;
      snap.order_id = o->id();
      snap.flow = t.flow;
      snap.version = t.version;
      snap.created_on = now;
      snap.updated_on = now;
      snap.events.push_back("new_order");
      snap.paths.push_back(initial_path(*o));
      req.ops.push_back(write_op::put(
        impl_->db->journeys, journey_key(o->id(), t.flow, t.version),
        encode(snap)));
      starts.emplace_back(t.supervisor, std::move(snap));
    }
    requests.push_back(std::move(req));
    positions.push_back(i);
    auto& r = requests.back();
    r.done = [results, i, o, starts = std::move(starts)](
               const write_result& w) mutable {
      auto& result = (*results)[i];
      if (w.key_existed) {
        result.status = submit_status::duplicate;
      } else if (!w.applied) {
        result.status = submit_status::rejected;
        result.error = describe(w.error);
      } else {
        result.status = submit_status::accepted;
        for (auto& [sup, snap] : starts)
          caf::anon_send(sup, start_atom::value, o, std::move(snap));
      }
    };
  }
  if (requests.empty()) {
    done(std::move(*results));
    return;
  }
  auto remaining = std::make_shared<std::atomic<std::size_t>>(requests.size());
  auto finish = std::make_shared<std::function<void(std::vector<submit_result>)>>(
    std::move(done));
  for (auto& req : requests) {
    auto inner = std::move(req.done);
    req.done = [inner = std::move(inner), remaining, results,
                finish](const write_result& w) mutable {
      inner(w);
      if (--*remaining == 0)
        (*finish)(std::move(*results));
    };
    impl_->writer->submit(std::move(req));
  }
}

std::vector<submit_result>
Engine::submit_batch(const std::vector<std::string>& orders) {
  std::promise<std::vector<submit_result>> promise;
  auto future = promise.get_future();
  submit_async(orders, [&promise](std::vector<submit_result> results) {
    promise.set_value(std::move(results));
  });
  return future.get();
}

submit_result Engine::submit(std::string_view order_json) {
  return submit_batch({std::string{order_json}}).front();
}

void Engine::events_async(
  std::vector<std::pair<std::string, std::string>> events,
  std::function<void(std::vector<caf::error>)> done) {
  auto results = std::make_shared<std::vector<caf::error>>(events.size());
  auto remaining = std::make_shared<std::atomic<std::size_t>>(events.size());
  auto finish = std::make_shared<std::function<void(std::vector<caf::error>)>>(
    std::move(done));
  if (events.empty()) {
    (*finish)({});
    return;
  }
  for (std::size_t i = 0; i < events.size(); ++i) {
    auto [order_id, type] = std::move(events[i]);
    auto complete = [results, remaining, finish, i](caf::error err) {
      (*results)[i] = std::move(err);
      if (--*remaining == 0)
        (*finish)(std::move(*results));
    };
    if (type.empty()) {
      complete(make_error(errc::invalid_argument,
                          "an event type must not be empty"));
      continue;
    }
    auto what = "orders/" + quote(order_id);
    write_request req;
    req.ops.push_back(write_op::modify(
      impl_->db->orders, order_id,
      [type = type, order_id = order_id,
       what](std::optional<std::string_view> current)
        -> caf::expected<std::optional<std::string>> {
        if (!current)
          return make_error(errc::no_such_order,
                            "no order " + quote(order_id) + " on this node");
        auto rec = decode_order_record(*current, what);
        if (!rec)
          return rec.error();
        rec->events.push_back(type);
        if (type == "cancel_order")
          rec->cancelled = true;
        return std::optional<std::string>{encode(*rec)};
      }));
    req.done = [this, complete, order_id = order_id,
                type = type](const write_result& w) {
      if (!w.applied) {
        complete(w.error);
        return;
      }
      std::vector<caf::actor> targets;
      {
        std::lock_guard<std::mutex> guard{impl_->mutex};
        targets = impl_->all_supervisors();
      }
      for (const auto& sup : targets)
        if (type == "cancel_order")
          caf::anon_send(sup, cancel_atom::value, order_id);
        else
          caf::anon_send(sup, event_atom::value, order_id, type);
      complete(caf::none);
    };
    impl_->writer->submit(std::move(req));
  }
}

caf::error Engine::event(const std::string& order_id, const std::string& type) {
  std::promise<caf::error> promise;
  auto future = promise.get_future();
  events_async({{order_id, type}}, [&promise](std::vector<caf::error> errs) {
    promise.set_value(std::move(errs.front()));
  });
  return future.get();
}

caf::error Engine::cancel(const std::string& order_id) {
  return event(order_id, "cancel_order");
}

// -- journeys -----------------------------------------------------------------

caf::expected<journey_record> Engine::impl::record_of(
  const std::optional<journey_id>& id, caf::expected<journey_snapshot> snap) {
  if (!snap) {
    // A damaged record is shown as a failed journey that says why.
    journey_record r;
    if (id) {
      r.order_id = id->order_id;
      r.flow = id->flow;
      r.version = id->version;
    }
    r.state = journey_state::failed;
    r.error = "the journey's record is damaged: " + describe(snap.error());
    return r;
  }
  std::lock_guard<std::mutex> guard{mutex};
  auto model = model_for(snap->flow, snap->version);
  if (!model)
    return model.error();
  return make_record(*snap, **model);
}

caf::expected<std::vector<journey_record>>
Engine::journeys(const std::string& order_id) {
  return list_journeys_with(journey_prefix(order_id), {});
}

caf::expected<std::vector<journey_record>>
Engine::list_journeys(const journey_query& q) {
  return list_journeys_with("", q);
}

caf::expected<std::vector<journey_record>>
Engine::list_journeys_with(const std::string& prefix, const journey_query& q) {
  std::vector<journey_record> result;
  caf::error failure;
  auto err = impl_->journeys->scan(
    prefix, [&](const std::optional<journey_id>& id,
                caf::expected<journey_snapshot> snap) {
      if (snap) {
        if (q.flow && snap->flow != *q.flow)
          return true;
        if (q.state && snap->state != *q.state)
          return true;
      }
      auto record = impl_->record_of(id, std::move(snap));
      if (!record) {
        failure = record.error();
        return false;
      }
      if (q.state && record->state != *q.state)
        return true;
      if (q.flow && record->flow != *q.flow)
        return true;
      result.push_back(std::move(*record));
      return q.limit == 0 || result.size() < q.limit;
    });
  if (err)
    return err;
  if (failure)
    return failure;
  return result;
}

caf::expected<std::vector<journal_entry>>
Engine::journal(const std::string& order_id, const std::string& flow,
                uint32_t version) {
  return impl_->journeys->journal({order_id, flow, version});
}

caf::expected<std::vector<timeline_entry>>
Engine::timeline(const std::string& order_id, const std::string& flow,
                 uint32_t version) {
  auto entries = impl_->journeys->journal({order_id, flow, version});
  if (!entries)
    return entries.error();
  std::lock_guard<std::mutex> guard{impl_->mutex};
  auto model = impl_->model_for(flow, version);
  if (!model)
    return model.error();
  return make_timeline(*entries, **model);
}

caf::expected<journey_id>
Engine::impl::find_journey(const std::string& order_id,
                           const std::optional<std::string>& flow) {
  std::vector<journey_id> found;
  auto err = journeys->scan(journey_prefix(order_id),
                            [&](const std::optional<journey_id>& id,
                                const caf::expected<journey_snapshot>&) {
                              if (id && (!flow || id->flow == *flow))
                                found.push_back(*id);
                              return true;
                            });
  if (err)
    return err;
  if (found.empty())
    return make_error(errc::no_such_journey,
                      "order " + quote(order_id) + " has no journey"
                        + (flow ? " on flow " + quote(*flow) : std::string{}));
  if (found.size() > 1) {
    std::string names;
    for (const auto& id : found)
      names += (names.empty() ? "" : ", ") + quote(id.flow);
    return make_error(errc::invalid_argument,
                      "order " + quote(order_id) + " has journeys on flows "
                        + names + ": name one");
  }
  return found.front();
}

caf::expected<journey_record>
Engine::redrive(const std::string& order_id,
                const std::optional<std::string>& flow) {
  auto id = impl_->find_journey(order_id, flow);
  if (!id)
    return id.error();
  auto snap = impl_->journeys->load_snapshot(*id);
  if (!snap)
    return snap.error();
  auto next = redrive_point(*snap, impl_->now());
  if (!next)
    return next.error();
  journal_entry mark;
  mark.kind = journal_kind::redriven;
  mark.at = impl_->now();
  mark.state = next->state;
  ++next->journal_chunks;
  std::promise<bool> committed;
  impl_->journeys->save(*next, {mark},
                        [&committed](bool ok) { committed.set_value(ok); });
  if (!committed.get_future().get())
    return make_error(errc::storage_failure,
                      "the redrive of order " + quote(order_id)
                        + " could not be written");
  auto restart = impl_->journeys->load_for_restart(*id);
  if (!restart)
    return restart.error();
  std::lock_guard<std::mutex> guard{impl_->mutex};
  auto sup = impl_->supervisor_for(id->flow, id->version);
  if (!sup)
    return sup.error();
  caf::anon_send(*sup, start_atom::value, restart->the_order,
                 restart->snapshot);
  auto model = impl_->model_for(id->flow, id->version);
  if (!model)
    return model.error();
  return make_record(*next, **model);
}

caf::expected<replay_report>
Engine::replay(const std::string& order_id,
               const std::optional<std::string>& flow,
               std::optional<uint32_t> against_version) {
  auto id = impl_->find_journey(order_id, flow);
  if (!id)
    return id.error();
  auto snap = impl_->journeys->load_snapshot(*id);
  if (!snap)
    return snap.error();
  auto journal = impl_->journeys->journal(*id);
  if (!journal)
    return journal.error();
  auto rec = impl_->journeys->load_order(order_id);
  if (!rec)
    return rec.error();
  auto parsed = order::parse(rec->text);
  if (!parsed)
    return parsed.error();
  flow_ptr recorded_model;
  flow_ptr model;
  {
    std::lock_guard<std::mutex> guard{impl_->mutex};
    auto m = impl_->model_for(id->flow, id->version);
    if (!m)
      return m.error();
    recorded_model = *m;
    model = recorded_model;
    if (against_version) {
      auto other = impl_->model_for(id->flow, *against_version);
      if (!other)
        return other.error();
      model = *other;
    }
  }
  auto result = orca::replay(*recorded_model, *model, *parsed, *journal);
  replay_report report;
  report.recorded = make_record(*snap, *recorded_model);
  report.version = against_version.value_or(id->version);
  journey_snapshot replayed;
  replayed.order_id = order_id;
  replayed.flow = id->flow;
  replayed.version = report.version;
  replayed.state = result.state;
  replayed.steps = result.steps;
  replayed.fulfillment_orders = result.fulfillment_orders;
  replayed.invoice_id = result.invoice_id;
  report.replayed = make_record(replayed, *model);
  report.timeline = make_timeline(result.timeline, *model);
  report.divergence = std::move(result.divergence);
  return report;
}

uint64_t Engine::subscribe(subscriber fn, bool terminal_only) {
  std::lock_guard<std::mutex> guard{impl_->subscribers_mutex};
  auto id = impl_->next_subscription++;
  impl_->subscribers[id] = subscription{std::move(fn), terminal_only};
  ++(terminal_only ? impl_->terminal_subscribers : impl_->all_subscribers);
  return id;
}

void Engine::unsubscribe(uint64_t id) {
  std::lock_guard<std::mutex> guard{impl_->subscribers_mutex};
  auto it = impl_->subscribers.find(id);
  if (it == impl_->subscribers.end())
    return;
  --(it->second.terminal_only ? impl_->terminal_subscribers
                              : impl_->all_subscribers);
  impl_->subscribers.erase(it);
}

caf::actor Engine::supervisor_of(const std::string& flow, uint32_t version) {
  std::lock_guard<std::mutex> guard{impl_->mutex};
  auto it = impl_->supervisors.find({flow, version});
  return it == impl_->supervisors.end() ? caf::actor{} : it->second;
}

caf::expected<std::size_t> Engine::running_journeys(const std::string& flow,
                                                    uint32_t version) {
  auto sup = supervisor_of(flow, version);
  if (!sup)
    return std::size_t{0};
  return impl_->count_on(sup, false, std::chrono::seconds(10));
}

caf::expected<journey_counts> Engine::count_journeys() {
  std::vector<caf::actor> sups;
  {
    std::lock_guard<std::mutex> guard{impl_->mutex};
    sups = impl_->all_supervisors();
  }
  journey_counts counts;
  for (const auto& sup : sups) {
    auto running = impl_->count_on(sup, false, std::chrono::seconds(10));
    if (!running)
      return running.error();
    auto passivated = impl_->count_on(sup, true, std::chrono::seconds(10));
    if (!passivated)
      return passivated.error();
    counts.running += *running;
    counts.passivated += *passivated;
  }
  return counts;
}

caf::expected<std::size_t>
Engine::passivated_journeys(const std::string& flow, uint32_t version) {
  auto sup = supervisor_of(flow, version);
  if (!sup)
    return std::size_t{0};
  return impl_->count_on(sup, true, std::chrono::seconds(60));
}

} // namespace orca
