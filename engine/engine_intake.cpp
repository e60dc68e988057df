// Intake: orders and events in, checked against the limits, stored with the
// first snapshots of their journeys in one commit, then handed to the
// supervisors.

#include "engine/engine_impl.hpp"

#include <future>

#include "actors/supervisor.hpp"

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

// -- work in flight -----------------------------------------------------------

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

// -- orders -------------------------------------------------------------------

void Engine::submit_async(
  std::vector<std::string> orders,
  std::function<void(std::vector<submit_result>)> answered) {
  // Every answer is counted by its status in the metrics.
  auto done = [metrics = impl_->metrics.get(), answered = std::move(answered)](
                std::vector<submit_result> results) {
    for (const auto& r : results)
      metrics->order(to_string(r.status));
    answered(std::move(results));
  };
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
      (*results)[i].reason = static_cast<errc>(orca_code(parsed.error()));
      continue;
    }
    order_ptr o{new order(std::move(*parsed)), count_out};
    (*results)[i].order_id = o->id();
    order_record rec;
    rec.id = o->id();
    rec.text = o->text();
    rec.received_on = now;
    // The first snapshot of each journey, stored with the order and then
    // handed to its version's supervisor.
    std::vector<journey_snapshot> firsts;
    std::vector<caf::actor> supervisors;
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
      firsts.push_back(std::move(snap));
      supervisors.push_back(t.supervisor);
    }
    write_request req;
    req.ops = impl_->journeys->take_order(rec, firsts);
    requests.push_back(std::move(req));
    positions.push_back(i);
    auto& r = requests.back();
    r.done = [results, i, o, supervisors = std::move(supervisors),
              firsts = std::move(firsts)](const write_result& w) mutable {
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
        result.reason = static_cast<errc>(orca_code(w.error));
        if (!own)
          result.refusal = w.error;
      } else {
        result.status = submit_status::accepted;
        for (std::size_t j = 0; j < firsts.size(); ++j)
          caf::anon_send(supervisors[j], start_atom::value, o,
                         std::move(firsts[j]));
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
    write_request req;
    req.ops.push_back(impl_->journeys->add_event(order_id, type));
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
