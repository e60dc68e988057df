#include "engine/engine_impl.hpp"

#include <future>
#include <iostream>

#include "actors/remote_provider.hpp"
#include "actors/supervisor.hpp"
#include "persistence/records.hpp"

namespace orca {

const char* to_string(submit_status status) {
  switch (status) {
    case submit_status::accepted: return "accepted";
    case submit_status::duplicate: return "duplicate";
    case submit_status::rejected: return "rejected";
    case submit_status::busy: return "busy";
  }
  return "?";
}

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
  store_opts.map_size = im->options.map_size;
  store_opts.initial_map_size =
    std::min(store_opts.initial_map_size, im->options.map_size);
  auto db = store::open(im->options.data_dir, store_opts);
  if (!db)
    return db.error();
  im->db = std::move(*db);
  im->flows = std::make_unique<flow_store>(*im->db, im->options.config.limits);
  im->writer = std::make_unique<group_committer>(*im->db);
  im->subscribers = std::make_unique<subscriber_hub>(im->options.warn);
  im->journeys = std::make_unique<journey_store>(*im->db, *im->writer);
  im->ledger = std::make_unique<provider_ledger>(*im->db, *im->writer);
  im->cfg = std::make_unique<caf::actor_system_config>();
  auto threads = im->options.threads;
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  im->cfg->set("scheduler.max-threads", threads);
  bool sharing = im->options.scheduler == engine_options::scheduling::sharing;
  im->cfg->set("scheduler.policy",
               sharing ? caf::atom("sharing") : caf::atom("stealing"));
  if (im->options.configure)
    im->options.configure(*im->cfg);
  im->system = std::make_unique<caf::actor_system>(*im->cfg);
  im->services = std::make_shared<journey_services>();
  im->services->time =
    im->options.time ? im->options.time : make_system_clock();
  im->services->sink = im.get();
  im->services->ledger = im->ledger.get();
  im->services->passivate_waiting = im->options.passivate_waiting;
  im->services->default_timeout_ms = im->options.config.default_timeout_ms;
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
  if (impl_->writer)
    impl_->writer->flush();
  if (impl_->subscribers)
    impl_->subscribers->drain();
}

void Engine::stop() {
  impl_->stop();
}

caf::expected<std::size_t> Engine::expire_journals() {
  return impl_->expire_journals();
}

Engine::storage_stats Engine::storage() const {
  auto st = impl_->writer->statistics();
  storage_stats result;
  result.commits = st.commits;
  result.requests = st.requests;
  result.ops = st.ops;
  result.map_size = impl_->db->map_size();
  result.max_map_size = impl_->db->max_map_size();
  result.full = impl_->db->full();
  result.orders_in_flight =
    static_cast<uint64_t>(std::max<int64_t>(0, impl_->in_flight->load()));
  return result;
}

// -- flows --------------------------------------------------------------------

caf::expected<flow_record> Engine::create_flow(std::string_view json,
                                               const std::string& origin) {
  auto rec = impl_->flows->create(json, origin, impl_->now());
  if (rec) {
    std::lock_guard<std::mutex> guard{impl_->mutex};
    impl_->keep(*rec);
  }
  return rec;
}

caf::expected<flow_record> Engine::update_flow(std::string_view json,
                                               const std::string& origin) {
  auto rec = impl_->flows->update(json, origin, impl_->now());
  if (rec) {
    std::lock_guard<std::mutex> guard{impl_->mutex};
    impl_->keep(*rec);
  }
  return rec;
}

caf::expected<uint32_t> Engine::publish_flow(const std::string& name) {
  auto outcome =
    impl_->flows->publish(name, impl_->services->providers.ids(), impl_->now());
  if (!outcome)
    return outcome.error();
  std::lock_guard<std::mutex> guard{impl_->mutex};
  impl_->keep(outcome->flow);
  if (auto sup = impl_->supervisor_for(name, outcome->version); !sup)
    return sup.error();
  impl_->rebuild_targets();
  return outcome->version;
}

caf::error Engine::stop_flow(const std::string& name, bool cancel_in_flight) {
  // Durable before it is acknowledged: the flow's cancel_epoch goes up in
  // the same write, and a journey the messages below do not reach before a
  // crash is cancelled when the node restarts.
  auto rec = impl_->flows->stop(name, impl_->now(), cancel_in_flight);
  if (!rec)
    return rec.error();
  std::lock_guard<std::mutex> guard{impl_->mutex};
  auto known = impl_->records.find(name);
  bool was_paused = known != impl_->records.end() && known->second.paused;
  impl_->keep(*rec);
  impl_->rebuild_targets();
  // Stop clears a pause: held journeys go on to finish on their version,
  // or, cancelled first, to their cancel. (A resume re-arms every waiting
  // journey's timer: only a paused flow needs it.)
  for (const auto& sup : impl_->supervisors_of(name)) {
    if (cancel_in_flight)
      caf::anon_send(sup, stop_atom::value, rec->cancel_epoch);
    if (was_paused)
      caf::anon_send(sup, resume_atom::value);
  }
  return caf::none;
}

caf::error Engine::pause_flow(const std::string& name) {
  return impl_->adopt(name, impl_->flows->pause(name, impl_->now()),
                      pause_atom::value);
}

caf::error Engine::resume_flow(const std::string& name) {
  auto rec = impl_->flows->resume(name, impl_->now());
  if (!rec)
    return rec.error();
  std::lock_guard<std::mutex> guard{impl_->mutex};
  impl_->keep(*rec);
  // Journeys of older versions that had not started a step (orders that
  // came while the flow was paused and changed) go to the latest version.
  auto latest = impl_->supervisor_for(name, rec->latest_version);
  for (const auto& [key, sup] : impl_->supervisors) {
    if (key.first != name)
      continue;
    if (latest && key.second < rec->latest_version)
      caf::anon_send(sup, resume_atom::value, rec->latest_version, *latest);
    else
      caf::anon_send(sup, resume_atom::value);
  }
  return caf::none;
}

caf::expected<std::vector<flow_record>> Engine::list_flows() {
  return impl_->flows->list();
}

caf::expected<policy_library> Engine::put_policies(std::string_view json,
                                                   const std::string& origin) {
  return impl_->flows->put_policies(json, origin, impl_->now());
}

caf::expected<policy_library> Engine::list_policies() {
  return impl_->flows->policies();
}

caf::expected<library_policy> Engine::get_policy(const std::string& name) {
  return impl_->flows->policy(name);
}

caf::expected<library_policy> Engine::delete_policy(const std::string& name) {
  return impl_->flows->delete_policy(name);
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
    return make_error(errc::invalid_argument,
                      "a provider id must not be empty");
  return impl_->add_provider(id, config);
}

caf::error Engine::register_embedded_provider(const std::string& id,
                                              embedded_function fn,
                                              uint32_t workers) {
  if (id.empty())
    return make_error(errc::invalid_argument,
                      "a provider id must not be empty");
  if (!fn)
    return make_error(errc::invalid_argument,
                      "provider " + quote(id) + ": the function is empty");
  impl_->replace_provider(id,
                          spawn_embedded_provider(*impl_->system, std::move(fn),
                                                  workers,
                                                  impl_->options.config.limits),
                          "embedded");
  return caf::none;
}

caf::error Engine::register_remote_provider(const std::string& id,
                                            caf::actor client) {
  if (auto err =
        check_name(id, "provider id", impl_->options.config.limits.name_bytes))
    return err;
  // A client may serve an id configured as remote, or one nobody has:
  // never take over a provider the node runs itself.
  for (const auto& e : impl_->services->providers.list()) {
    if (e.id != id)
      continue;
    if (e.kind != "remote")
      return make_error(errc::provider_taken,
                        "provider " + quote(id) + " is a " + e.kind
                          + " provider of this node; a client may serve only "
                            "providers configured as remote (or not "
                            "configured)");
    caf::anon_send(e.adapter, connect_atom::value, std::move(client));
    return caf::none;
  }
  auto adapter =
    spawn_remote_provider(*impl_->system, id, impl_->options.config.limits);
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

void Engine::submit_async(
  std::vector<std::string> orders,
  std::function<void(std::vector<submit_result>)> done) {
  auto results = std::make_shared<std::vector<submit_result>>(orders.size());
  const auto& lim = impl_->options.config.limits;
  if (auto refusal = impl_->reserve_intake(orders.size())) {
    for (std::size_t i = 0; i < orders.size(); ++i) {
      auto& r = (*results)[i];
      r.order_id = order_id_of(orders[i], lim.name_bytes);
      r.status = orders.size() > lim.batch_orders ? submit_status::rejected
                                                  : submit_status::busy;
      r.error = describe(refusal);
      r.refusal = refusal;
    }
    done(std::move(*results));
    return;
  }
  auto targets = std::atomic_load(&impl_->targets);
  auto now = impl_->now();
  std::vector<write_request> requests;
  std::vector<std::size_t> positions;
  // An accepted order counts as in flight while any journey holds it in
  // memory (until they end or passivate).
  auto in_flight = impl_->in_flight;
  auto count_out = [in_flight](const order* o) {
    in_flight->fetch_sub(1);
    delete o;
  };
  for (std::size_t i = 0; i < orders.size(); ++i) {
    auto parsed = order::parse(orders[i], lim);
    if (!parsed) {
      in_flight->fetch_sub(1); // reserved, not taken
      (*results)[i].order_id = order_id_of(orders[i], lim.name_bytes);
      (*results)[i].status = submit_status::rejected;
      (*results)[i].error = describe(parsed.error());
      continue;
    }
    order_ptr o{new order(std::move(*parsed)), count_out};
    (*results)[i].order_id = o->id();
    order_record rec;
    rec.id = o->id();
    rec.text = o->text();
    rec.received_on = now;
    write_request req;
    req.ops.push_back(
      write_op::put_new(impl_->db->orders, o->id(), encode(rec)));
    std::vector<std::pair<caf::actor, journey_snapshot>> starts;
    for (const auto& t : *targets) {
      journey_snapshot snap;
      snap.order_id = o->id();
      snap.flow = t.flow;
      snap.version = t.version;
      snap.cancel_epoch = t.cancel_epoch;
      snap.created_on = now;
      snap.updated_on = now;
      snap.events.push_back(event_types::new_order);
      snap.paths.push_back(initial_path(*o));
      req.ops.push_back(write_op::put(impl_->db->journeys,
                                      journey_key(o->id(), t.flow, t.version),
                                      encode(snap)));
      starts.emplace_back(t.supervisor, std::move(snap));
    }
    requests.push_back(std::move(req));
    positions.push_back(i);
    auto& r = requests.back();
    r.done = [results, i, o,
              starts = std::move(starts)](const write_result& w) mutable {
      auto& result = (*results)[i];
      if (w.key_existed) {
        result.status = submit_status::duplicate;
      } else if (!w.applied) {
        // Nothing of it was stored. Rejected if the order is at fault;
        // a store that is full or failing is the node's problem: the order
        // was not taken and may be sent again (a runtime failure, SPEC §6).
        bool own = is_own_fault(w.error);
        result.status = own ? submit_status::rejected : submit_status::busy;
        result.error = describe(w.error);
        if (!own)
          result.refusal = w.error;
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
  auto finish =
    std::make_shared<std::function<void(std::vector<submit_result>)>>(
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
    const auto& lim = impl_->options.config.limits;
    if (auto err = check_name(order_id, "order id", lim.name_bytes)) {
      complete(std::move(err));
      continue;
    }
    if (auto err = check_name(type, "event type", lim.name_bytes)) {
      complete(std::move(err));
      continue;
    }
    auto pending = impl_->events_pending;
    if (auto before = pending->fetch_add(1);
        before >= static_cast<int64_t>(lim.orders_in_flight)) {
      pending->fetch_sub(1);
      complete(
        make_error(errc::busy,
                   "node busy: " + std::to_string(before)
                     + " events and cancels wait to be stored, the limit is "
                     + std::to_string(lim.orders_in_flight)
                     + " (orders_in_flight); try again shortly"));
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
        auto rec = decode<order_record>(*current, what);
        if (!rec)
          return rec.error();
        rec->events.push_back(type);
        if (type == event_types::cancel_order)
          rec->cancelled = true;
        return std::optional<std::string>{encode(*rec)};
      }));
    req.done = [this, complete, pending, order_id = order_id,
                type = type](const write_result& w) {
      pending->fetch_sub(1);
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
        if (type == event_types::cancel_order)
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
  return event(order_id, event_types::cancel_order);
}

} // namespace orca
