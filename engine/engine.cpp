#include "engine/engine.hpp"

#include <atomic>
#include <future>
#include <map>
#include <mutex>

#include <caf/all.hpp>

#include "actors/journey_protocol.hpp"
#include "actors/services.hpp"
#include "actors/supervisor.hpp"
#include "persistence/flow_store.hpp"
#include "persistence/group_commit.hpp"
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
    system->await_all_actors_done();
    writer.reset();
    system.reset();
  }

  int64_t now() const {
    return services->time->now_ms();
  }

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

  std::vector<caf::actor> all_supervisors() const {
    std::vector<caf::actor> result;
    for (const auto& kv : supervisors)
      result.push_back(kv.second);
    return result;
  }

  // -- journey_sink -----------------------------------------------------------

  void save(const journey_snapshot& snapshot) override {
    write_request req;
    req.ops.push_back(write_op::put(
      db->journeys,
      journey_key(snapshot.order_id, snapshot.flow, snapshot.version),
      encode(snapshot)));
    bool wanted = all_subscribers.load() > 0
                  || (terminal_subscribers.load() > 0
                      && is_terminal(snapshot.state));
    if (wanted)
      req.done = [this, copy = snapshot](const write_result& r) {
        if (r.applied)
          notify(copy);
      };
    writer->submit(std::move(req));
  }

  void journey_died(const std::string& order_id, const std::string& flow,
                    uint32_t version, const std::string& reason) override {
    auto result = std::make_shared<journey_snapshot>();
    auto key = journey_key(order_id, flow, version);
    auto what = "journeys/" + quote(order_id) + "/" + quote(flow);
    auto now_ms = now();
    write_request req;
    req.ops.push_back(write_op::modify(
      db->journeys, key,
      [=](std::optional<std::string_view> current)
        -> caf::expected<std::optional<std::string>> {
        journey_snapshot snap;
        if (current) {
          if (auto decoded = decode_journey_snapshot(*current, what))
            snap = std::move(*decoded);
        }
        if (is_terminal(snap.state) && current)
          return std::optional<std::string>{};
        snap.order_id = order_id;
        snap.flow = flow;
        snap.version = version;
        snap.state = journey_state::failed;
        snap.error = "the journey's actor died: " + reason;
        snap.paths.clear();
        snap.updated_on = now_ms;
        *result = snap;
        return std::optional<std::string>{encode(snap)};
      }));
    req.done = [this, result](const write_result& r) {
      if (r.applied && !result->order_id.empty())
        notify(*result);
    };
    writer->submit(std::move(req));
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
        adapter = spawn_simulated_provider(*system, services, p.simulated, log);
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

  caf::error load_flows() {
    auto all = flows->list();
    if (!all)
      return all.error();
    std::lock_guard<std::mutex> guard{mutex};
    for (auto& rec : *all)
      records[rec.name] = std::move(rec);
    rebuild_targets();
    return caf::none;
  }

  /// Resumes every journey that had not ended when the store was closed.
  caf::error recover_journeys() {
    auto txn = db->begin_read();
    if (!txn)
      return txn.error();
    std::map<std::string, order_ptr> orders;
    std::map<std::string, order_record> order_records;
    std::vector<std::pair<caf::actor, journey_snapshot>> starts;
    std::vector<std::pair<std::string, order_ptr>> order_of;
    caf::error failure;
    auto err = txn->scan(db->journeys, "", [&](std::string_view key,
                                               std::string_view value) {
      auto snap = decode_journey_snapshot(value, "journeys/"
                                                   + std::string{key});
      if (!snap || is_terminal(snap->state))
        return true;
      auto& o = orders[snap->order_id];
      auto& rec = order_records[snap->order_id];
      if (!o) {
        auto bytes = txn->get(db->orders, snap->order_id);
        if (!bytes || !*bytes)
          return true;
        auto decoded = decode_order_record(**bytes,
                                           "orders/" + quote(snap->order_id));
        if (!decoded)
          return true;
        rec = std::move(*decoded);
        auto parsed = order::parse(rec.text);
        if (!parsed)
          return true;
        o = std::make_shared<const order>(std::move(*parsed));
      }
      // Events acknowledged after the snapshot was taken.
      for (const auto& type : rec.events)
        if (std::find(snap->events.begin(), snap->events.end(), type)
            == snap->events.end())
          snap->events.push_back(type);
      if (rec.cancelled)
        snap->cancel_requested = true;
      std::lock_guard<std::mutex> guard{mutex};
      auto sup = supervisor_for(snap->flow, snap->version);
      if (!sup)
        return true;
      starts.emplace_back(*sup, std::move(*snap));
      order_of.emplace_back(starts.back().second.order_id, o);
      return true;
    });
    if (err)
      return err;
    for (std::size_t i = 0; i < starts.size(); ++i)
      caf::anon_send(starts[i].first, start_atom::value, order_of[i].second,
                     std::move(starts[i].second));
    (void) failure;
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
  store::options store_opts;
  store_opts.durable = im->options.durable;
  auto db = store::open(im->options.data_dir, store_opts);
  if (!db)
    return db.error();
  im->db = std::move(*db);
  im->flows = std::make_unique<flow_store>(*im->db);
  im->writer = std::make_unique<group_committer>(*im->db);
  im->cfg = std::make_unique<caf::actor_system_config>();
  auto threads = im->options.threads;
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  im->cfg->set("scheduler.max-threads", threads);
  im->system = std::make_unique<caf::actor_system>(*im->cfg);
  im->services = std::make_shared<journey_services>();
  im->services->time = im->options.time ? im->options.time
                                        : make_system_clock();
  im->services->sink = im.get();
  for (const auto& id : default_provider_ids())
    if (auto err = im->add_provider(id, provider_config{}))
      return err;
  for (const auto& [id, p] : im->options.config.providers)
    if (auto err = im->add_provider(id, p))
      return err;
  if (auto err = im->load_flows())
    return err;
  if (auto err = im->recover_journeys())
    return err;
  return std::unique_ptr<Engine>{new Engine(std::move(im))};
}

caf::actor_system& Engine::system() {
  return *impl_->system;
}

void Engine::flush() {
  impl_->writer->flush();
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
  auto rec = impl_->flows->pause(name, impl_->now());
  if (!rec)
    return rec.error();
  std::lock_guard<std::mutex> guard{impl_->mutex};
  impl_->records[name] = *rec;
  for (const auto& sup : impl_->supervisors_of(name))
    caf::anon_send(sup, pause_atom::value);
  return caf::none;
}

caf::error Engine::resume_flow(const std::string& name) {
  auto rec = impl_->flows->resume(name, impl_->now());
  if (!rec)
    return rec.error();
  std::lock_guard<std::mutex> guard{impl_->mutex};
  impl_->records[name] = *rec;
  for (const auto& sup : impl_->supervisors_of(name))
    caf::anon_send(sup, resume_atom::value);
  return caf::none;
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

std::vector<provider_info> Engine::providers() const {
  std::vector<provider_info> result;
  for (const auto& e : impl_->services->providers.list())
    result.push_back({e.id, e.kind});
  return result;
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

namespace {

template <class F>
caf::error for_each_journey(store& db, const std::string& prefix, F&& f) {
  auto txn = db.begin_read();
  if (!txn)
    return txn.error();
  caf::error failure;
  auto err = txn->scan(db.journeys, prefix,
                       [&](std::string_view key, std::string_view value) {
                         auto snap = decode_journey_snapshot(
                           value, "journeys/" + std::string{key});
                         if (!snap) {
                           failure = snap.error();
                           return false;
                         }
                         return f(std::move(*snap));
                       });
  return err ? err : failure;
}

} // namespace

caf::expected<std::vector<journey_record>>
Engine::journeys(const std::string& order_id) {
  std::vector<journey_record> result;
  caf::error failure;
  auto err = for_each_journey(
    *impl_->db, journey_prefix(order_id), [&](journey_snapshot snap) {
      std::lock_guard<std::mutex> guard{impl_->mutex};
      auto model = impl_->model_for(snap.flow, snap.version);
      if (!model) {
        failure = model.error();
        return false;
      }
      result.push_back(make_record(snap, **model));
      return true;
    });
  if (err)
    return err;
  if (failure)
    return failure;
  return result;
}

caf::expected<std::vector<journey_record>>
Engine::list_journeys(const journey_query& q) {
  std::vector<journey_record> result;
  caf::error failure;
  auto err = for_each_journey(*impl_->db, "", [&](journey_snapshot snap) {
    if (q.flow && snap.flow != *q.flow)
      return true;
    if (q.state && snap.state != *q.state)
      return true;
    std::lock_guard<std::mutex> guard{impl_->mutex};
    auto model = impl_->model_for(snap.flow, snap.version);
    if (!model) {
      failure = model.error();
      return false;
    }
    result.push_back(make_record(snap, **model));
    return q.limit == 0 || result.size() < q.limit;
  });
  if (err)
    return err;
  if (failure)
    return failure;
  return result;
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
  caf::scoped_actor self{*impl_->system};
  caf::expected<std::size_t> result = std::size_t{0};
  self->request(sup, std::chrono::seconds(10), count_atom::value)
    .receive([&](std::size_t n) { result = n; },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

} // namespace orca
