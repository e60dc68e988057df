#include "engine/engine_impl.hpp"

#include <future>

#include "actors/path_runner.hpp"
#include "actors/remote_provider.hpp"
#include "actors/supervisor.hpp"

namespace orca {

void Engine::impl::stop() {
  if (stopped || !system)
    return;
  stopped = true;
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
  subscribers.reset();
}

Engine::impl::~impl() {
  if (!system)
    return;
  stop();
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

order_ptr Engine::impl::counted(order_ptr o) const {
  struct holder {
    holder(order_ptr o, std::shared_ptr<std::atomic<int64_t>> c)
        : held(std::move(o)), counter(std::move(c)) {
      counter->fetch_add(1);
    }
    holder(const holder&) = delete;
    holder& operator=(const holder&) = delete;
    ~holder() {
      counter->fetch_sub(1);
    }
    order_ptr held;
    std::shared_ptr<std::atomic<int64_t>> counter;
  };
  auto h = std::make_shared<holder>(std::move(o), in_flight);
  const order* raw = h->held.get();
  return order_ptr{std::move(h), raw};
}

caf::error Engine::impl::reserve_intake(std::size_t n) {
  const auto& lim = options.config.limits;
  if (n > lim.batch_orders)
    return make_error(
      errc::limit_exceeded,
      "a submission of " + std::to_string(n) + " orders is over the limit of "
        + std::to_string(lim.batch_orders) + " orders (batch_orders)");
  if (db->full() && !db->probe_room())
    return db->full_error();
  auto before = in_flight->fetch_add(static_cast<int64_t>(n));
  auto now_in_flight = static_cast<std::size_t>(std::max<int64_t>(0, before));
  // One submission larger than the limit is taken when nothing else is in
  // flight; it would never be taken otherwise.
  if (now_in_flight > 0 && now_in_flight + n > lim.orders_in_flight) {
    in_flight->fetch_sub(static_cast<int64_t>(n));
    return make_error(errc::busy,
                      "node busy: " + std::to_string(now_in_flight)
                        + " orders in flight, the limit is "
                        + std::to_string(lim.orders_in_flight)
                        + " (orders_in_flight); try again shortly");
  }
  return caf::none;
}

caf::expected<std::size_t> Engine::impl::expire_journals() {
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

void Engine::impl::start_sweeper() {
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

void Engine::impl::keep(const flow_record& rec) {
  records[rec.name] = rec;
  clock_of(rec.name)->set(rec.paused_on, rec.paused_ms);
}

flow_clock_ptr Engine::impl::clock_of(const std::string& name) {
  auto& clock = clocks[name];
  if (!clock)
    clock = std::make_shared<flow_clock>();
  return clock;
}

caf::expected<flow_ptr> Engine::impl::model_for(const std::string& name,
                                                uint32_t version) {
  auto key = version_key{name, version};
  if (auto it = models.find(key); it != models.end())
    return it->second;
  auto frozen = flows->version(name, version);
  if (!frozen)
    return frozen.error();
  auto parsed = parse_flow_or_error(frozen->definition,
                                    "flow " + quote(name) + " version "
                                      + std::to_string(version),
                                    options.config.limits);
  if (!parsed)
    return parsed.error();
  models.emplace(key, *parsed);
  return *parsed;
}

caf::expected<caf::actor> Engine::impl::supervisor_for(const std::string& name,
                                                       uint32_t version) {
  auto key = version_key{name, version};
  if (auto it = supervisors.find(key); it != supervisors.end())
    return it->second;
  auto model = model_for(name, version);
  if (!model)
    return model.error();
  auto rec = records.find(name);
  bool paused = rec != records.end() && rec->second.paused;
  auto sup = spawn_supervisor(*system, services, *model, clock_of(name),
                              version, paused);
  supervisors.emplace(key, sup);
  return sup;
}

void Engine::impl::rebuild_targets() {
  auto next = std::make_shared<target_list>();
  for (const auto& [name, rec] : records) {
    if (rec.status != flow_status::published)
      continue;
    auto sup = supervisor_for(name, rec.latest_version);
    if (sup)
      next->push_back({name, rec.latest_version, rec.cancel_epoch, *sup});
  }
  std::atomic_store(&targets,
                    std::shared_ptr<const target_list>{std::move(next)});
}

caf::expected<std::size_t> Engine::impl::count_on(const caf::actor& sup,
                                                  journey_count which,
                                                  std::chrono::seconds limit) {
  caf::scoped_actor self{*system};
  caf::expected<std::size_t> result = std::size_t{0};
  auto on_count = [&](std::size_t n) { result = n; };
  auto on_error = [&](caf::error& err) { result = std::move(err); };
  switch (which) {
    case journey_count::running:
      self->request(sup, limit, count_atom::value).receive(on_count, on_error);
      break;
    case journey_count::passivated:
      self->request(sup, limit, count_atom::value, passivate_atom::value)
        .receive(on_count, on_error);
      break;
    case journey_count::held:
      self->request(sup, limit, count_atom::value, held_atom::value)
        .receive(on_count, on_error);
      break;
  }
  return result;
}

void Engine::impl::save(const journey_snapshot& snapshot,
                        const std::vector<journal_entry>& chunk,
                        std::function<void(const caf::error&)> done) {
  bool wanted = subscribers->wants(is_terminal(snapshot.state));
  journey_id id{snapshot.order_id, snapshot.flow, snapshot.version};
  std::optional<journey_snapshot> copy;
  if (wanted)
    copy = snapshot;
  journeys->save(snapshot, chunk,
                 [this, id = std::move(id), copy = std::move(copy),
                  terminal = is_terminal(snapshot.state),
                  done = std::move(done)](const caf::error& err) {
                   if (err) {
                     // A journey still running is told (done) and records
                     // the failure itself as its last write, after every
                     // save it queued; one that ended has quit: it is
                     // recorded here. The store keeps its last good state.
                     if (terminal)
                       journey_failed(id.order_id, id.flow, id.version,
                                      "its state could not be saved: "
                                        + describe(err));
                   } else if (copy) {
                     notify(*copy);
                   } else if (subscribers->wants(terminal)) {
                     // Somebody subscribed while this save was queued:
                     // they get what the store holds now.
                     if (auto now_stored = journeys->load_snapshot(id))
                       notify(*now_stored);
                   }
                   if (done)
                     done(err);
                 });
}

void Engine::impl::journey_failed(const std::string& order_id,
                                  const std::string& flow, uint32_t version,
                                  const std::string& reason) {
  warn("journey of order " + quote(order_id) + " on flow " + quote(flow)
       + " version " + std::to_string(version) + " failed: " + reason);
  journeys->mark_failed({order_id, flow, version}, reason, now(),
                        [this](std::optional<journey_snapshot> snap) {
                          if (snap)
                            notify(*snap);
                        });
}

caf::expected<restart_point> Engine::impl::load(const std::string& order_id,
                                                const std::string& flow,
                                                uint32_t version) {
  auto loaded = journeys->load_for_restart({order_id, flow, version});
  if (!loaded)
    return loaded;
  loaded->the_order = counted(std::move(loaded->the_order));
  if (cancelled_by_stop(loaded->snapshot))
    loaded->missed_cancel = true;
  return loaded;
}

void Engine::impl::notify(const journey_snapshot& snapshot) {
  flow_ptr model;
  {
    std::lock_guard<std::mutex> guard{mutex};
    auto m = model_for(snapshot.flow, snapshot.version);
    if (!m)
      return;
    model = *m;
  }
  subscribers->publish(make_record(snapshot, *model));
}

caf::error Engine::impl::add_provider(const std::string& id,
                                      const provider_config& p) {
  caf::actor adapter;
  switch (p.kind) {
    case provider_kind::simulated: {
      std::shared_ptr<call_log> log;
      if (options.record_provider_calls)
        log = std::make_shared<call_log>();
      adapter =
        spawn_simulated_provider(*system, services, id, p.simulated, log);
      std::lock_guard<std::mutex> guard{mutex};
      logs[id] = log;
      break;
    }
    case provider_kind::http: {
      if (auto url = parse_http_url(p.http.url); !url)
        return url.error();
      adapter = spawn_http_provider(*system, p.http, options.config.limits);
      break;
    }
    case provider_kind::remote:
      adapter = spawn_remote_provider(*system, id, options.config.limits);
      break;
    default:
      return make_error(errc::invalid_config,
                        "provider " + quote(id) + ": kind " + to_string(p.kind)
                          + " cannot be registered from a config");
  }
  replace_provider(id, adapter, to_string(p.kind));
  return caf::none;
}

void Engine::impl::replace_provider(const std::string& id, caf::actor adapter,
                                    const char* kind) {
  auto old = services->providers.find(id);
  services->providers.add(id, std::move(adapter), kind);
  if (old)
    caf::anon_send_exit(old, caf::exit_reason::user_shutdown);
}

caf::error Engine::impl::load_flows() {
  std::lock_guard<std::mutex> guard{mutex};
  auto err = flows->scan(
    [this](const std::string& name, caf::expected<flow_record> rec) {
      if (rec)
        keep(*rec);
      else
        warn("flow " + quote(name) + " is left out: " + describe(rec.error()));
      return true;
    });
  rebuild_targets();
  return err;
}

uint32_t Engine::impl::cancel_epoch_of(const std::string& flow) const {
  std::lock_guard<std::mutex> guard{mutex};
  auto rec = records.find(flow);
  return rec == records.end() ? 0 : rec->second.cancel_epoch;
}

bool Engine::impl::cancelled_by_stop(const journey_snapshot& snap) const {
  return behind_a_stop(snap, cancel_epoch_of(snap.flow));
}

bool Engine::impl::has_missed_input(const journey_snapshot& snap) {
  if (cancelled_by_stop(snap))
    return true;
  auto rec = journeys->load_order(snap.order_id);
  // An unreadable order is reported when the journey restarts from it.
  return !rec || !missed_since(snap, *rec).empty();
}

std::optional<uint32_t>
Engine::impl::moved_up_to(const journey_snapshot& snap) const {
  std::lock_guard<std::mutex> guard{mutex};
  auto rec = records.find(snap.flow);
  if (rec == records.end() || rec->second.paused
      || snap.version >= rec->second.resumed_to
      || snap.created_on > rec->second.resumed_on || started_a_step(snap))
    return std::nullopt;
  return rec->second.resumed_to;
}

std::optional<journey_id> Engine::impl::move_up(const journey_id& id,
                                                uint32_t to) {
  auto loaded = journeys->load_for_restart(id);
  if (!loaded) {
    journey_failed(id.order_id, id.flow, id.version,
                   "cannot resume it: " + describe(loaded.error()));
    return std::nullopt;
  }
  auto next = moved_to_version(loaded->snapshot, to, *loaded->the_order, now());
  std::promise<caf::error> written;
  journeys->move(loaded->snapshot, next,
                 [&written](const caf::error& err) { written.set_value(err); });
  if (auto err = written.get_future().get()) {
    journey_failed(id.order_id, id.flow, id.version,
                   "cannot move it to version " + std::to_string(to) + ": "
                     + describe(err));
    return std::nullopt;
  }
  return journey_id{id.order_id, id.flow, to};
}

caf::error Engine::impl::recover_journeys() {
  std::vector<std::pair<journey_id, std::string>> damaged;
  std::vector<journey_id> restart;
  std::vector<std::pair<journey_id, int64_t>> sleeping;
  std::vector<std::pair<journey_id, uint32_t>> moving;
  // Whether the snapshot may stay parked, and until when: it waits, its
  // order got nothing since it was taken, and no waiting path's event is
  // among those it took (then that path is about to go on).
  auto parked_until =
    [this](const journey_snapshot& snap) -> std::optional<int64_t> {
    if (snap.state != journey_state::waiting || !services->passivate_waiting
        || has_missed_input(snap))
      return std::nullopt;
    flow_ptr model;
    {
      std::lock_guard<std::mutex> guard{mutex};
      auto found = model_for(snap.flow, snap.version);
      if (!found)
        return std::nullopt; // the restart reports why
      model = std::move(*found);
    }
    return sleep_until(*model, snap.paths, snap.events);
  };
  auto err = journeys->scan(
    "",
    [&](const std::optional<journey_id>& id,
        caf::expected<journey_snapshot> snap) {
      if (!snap) {
        if (id)
          damaged.emplace_back(*id, describe(snap.error()));
        else
          warn("skipping an unreadable journey key: " + describe(snap.error()));
        return true;
      }
      if (is_terminal(snap->state))
        return true;
      journey_id jid{snap->order_id, snap->flow, snap->version};
      if (auto to = moved_up_to(*snap)) {
        moving.emplace_back(std::move(jid), *to);
        return true;
      }
      // A waiting journey whose order received an event or a cancel after
      // its snapshot (acknowledged, then the node stopped before the
      // journey saved) must run to take it: it is not parked.
      if (auto wake_at = parked_until(*snap)) {
        sleeping.emplace_back(std::move(jid), *wake_at);
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
  for (const auto& [id, to] : moving)
    if (auto moved = move_up(id, to))
      restart.push_back(std::move(*moved));
  // The supervisor of a journey's flow version; if that version cannot be
  // loaded, the journey fails with the reason (REQUIRES: mutex held).
  auto supervisor_or_fail = [this](const journey_id& id) {
    auto sup = supervisor_for(id.flow, id.version);
    if (sup)
      return *sup;
    journey_failed(id.order_id, id.flow, id.version,
                   "its flow version cannot be loaded: "
                     + describe(sup.error()));
    return caf::actor{};
  };
  for (const auto& [id, wake_at] : sleeping) {
    std::lock_guard<std::mutex> guard{mutex};
    if (auto sup = supervisor_or_fail(id))
      caf::anon_send(sup, park_atom::value, id.order_id, wake_at);
  }
  for (const auto& id : restart) {
    auto loaded = load(id.order_id, id.flow, id.version);
    if (!loaded) {
      journey_failed(id.order_id, id.flow, id.version,
                     "cannot resume it: " + describe(loaded.error()));
      continue;
    }
    std::lock_guard<std::mutex> guard{mutex};
    auto sup = supervisor_or_fail(id);
    if (!sup)
      continue;
    caf::anon_send(sup, start_atom::value, loaded->the_order,
                   std::move(loaded->snapshot));
    for (const auto& type : loaded->missed_events)
      caf::anon_send(sup, event_atom::value, id.order_id, type);
    if (loaded->missed_cancel)
      caf::anon_send(sup, cancel_atom::value, id.order_id);
  }
  return caf::none;
}

caf::expected<journey_record>
Engine::impl::record_of(const std::optional<journey_id>& id,
                        caf::expected<journey_snapshot> snap) {
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

} // namespace orca
