// Journeys: the sink their actors save through, queries, replay and
// redrive, subscriptions and counts.

#include "engine/engine_impl.hpp"

#include <future>

#include "actors/redrive.hpp"
#include "actors/replay.hpp"
#include "actors/supervisor.hpp"

namespace orca {

// -- journeys -----------------------------------------------------------------

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
  if (prefix.empty() && (q.flow || q.state))
    return list_indexed(q);
  std::vector<journey_record> result;
  caf::error failure;
  auto err = impl_->journeys->scan(
    prefix,
    [&](const std::optional<journey_id>& id,
        caf::expected<journey_snapshot> snap) {
      // The scan begins at `after`'s key: only that journey is before it.
      if (q.after && id && id->order_id == q.after->order_id
          && id->flow == q.after->flow && id->version == q.after->version)
        return true;
      if (snap) {
        if (q.flow && snap->flow != *q.flow)
          return true;
        if (q.state && visible_state(snap->state) != *q.state)
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
    },
    q.after ? q.after->key() : std::string{});
  if (err)
    return err;
  if (failure)
    return failure;
  return result;
}

caf::expected<std::vector<journey_record>>
Engine::list_indexed(const journey_query& q) {
  auto ids = impl_->journeys->indexed(q.flow, q.state, q.after, q.limit);
  if (!ids)
    return ids.error();
  std::vector<journey_record> result;
  result.reserve(ids->size());
  for (const auto& id : *ids) {
    auto snap = impl_->journeys->load_snapshot(id);
    if (!snap
        && orca_code(snap.error())
          == static_cast<uint8_t>(errc::no_such_journey))
      continue; // gone since the index was read
    auto record = impl_->record_of(id, std::move(snap));
    if (!record)
      return record.error();
    // The index is written with the record; a record that does not read is
    // shown as it reads now, and only where it still belongs.
    if ((q.state && record->state != *q.state)
        || (q.flow && record->flow != *q.flow))
      continue;
    result.push_back(std::move(*record));
  }
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

caf::expected<journey_record>
Engine::redrive(const std::string& order_id,
                const std::optional<std::string>& flow) {
  auto found = impl_->find_journey(order_id, flow);
  if (!found)
    return found.error();
  const auto* id = &found->id;
  const auto* snap = &found->snapshot;
  auto next = redrive_point(*snap, impl_->now());
  if (!next)
    return next.error();
  // The redrive is a new start: a stop --cancel-in-flight before it is not
  // one it should be cancelled by.
  next->cancel_epoch = impl_->cancel_epoch_of(id->flow);
  journal_entry mark;
  mark.kind = journal_kind::redriven;
  mark.at = impl_->now();
  mark.state = next->state;
  ++next->journal_chunks;
  std::promise<caf::error> committed;
  // Through the sink, as a journey's own saves go: subscribers and hooks
  // hear of the change.
  impl_->save(*next, {mark}, [&committed](const caf::error& err) {
    committed.set_value(err);
  });
  if (auto err = committed.get_future().get())
    return make_error(errc::storage_failure,
                      "the redrive of order " + quote(order_id)
                        + " could not be written: " + describe(err));
  auto restart = impl_->journeys->load_for_restart(*id);
  if (!restart)
    return restart.error();
  std::lock_guard<std::mutex> guard{impl_->mutex};
  auto sup = impl_->supervisor_for(id->flow, id->version);
  if (!sup)
    return sup.error();
  caf::anon_send(*sup, redrive_atom::value, restart->the_order,
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
  auto found = impl_->find_journey(order_id, flow);
  if (!found)
    return found.error();
  const auto* id = &found->id;
  const auto* snap = &found->snapshot;
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
  auto result = orca::replay(*recorded_model, *model, *parsed, *journal,
                             impl_->services->default_timeout_ms);
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
  if (!impl_->subscribers)
    return 0; // stopped: nothing more will be reported
  return impl_->subscribers->add(std::move(fn), terminal_only);
}

void Engine::unsubscribe(uint64_t id) {
  if (impl_->subscribers)
    impl_->subscribers->remove(id);
}

uint64_t Engine::dropped_updates(uint64_t id) const {
  return impl_->subscribers ? impl_->subscribers->dropped(id) : 0;
}

caf::actor Engine::supervisor_of(const std::string& flow, uint32_t version) {
  std::lock_guard<std::mutex> guard{impl_->mutex};
  auto it = impl_->supervisors.find({flow, version});
  return it == impl_->supervisors.end() ? caf::actor{} : it->second;
}

caf::expected<std::size_t> Engine::impl::count_of(const std::string& flow,
                                                  uint32_t version,
                                                  journey_count which,
                                                  std::chrono::seconds limit) {
  caf::actor sup;
  {
    std::lock_guard<std::mutex> guard{mutex};
    auto it = supervisors.find({flow, version});
    if (it == supervisors.end())
      return std::size_t{0};
    sup = it->second;
  }
  return count_on(sup, which, limit);
}

caf::expected<std::size_t> Engine::running_journeys(const std::string& flow,
                                                    uint32_t version) {
  return impl_->count_of(flow, version, impl::journey_count::running,
                         std::chrono::seconds(10));
}

caf::expected<journey_counts> Engine::count_journeys() {
  std::vector<caf::actor> sups;
  {
    std::lock_guard<std::mutex> guard{impl_->mutex};
    sups = impl_->all_supervisors();
  }
  journey_counts counts;
  for (const auto& sup : sups) {
    auto running = impl_->count_on(sup, impl::journey_count::running,
                                   std::chrono::seconds(10));
    if (!running)
      return running.error();
    auto passivated = impl_->count_on(sup, impl::journey_count::passivated,
                                      std::chrono::seconds(10));
    if (!passivated)
      return passivated.error();
    counts.running += *running;
    counts.passivated += *passivated;
  }
  return counts;
}

caf::expected<std::size_t> Engine::held_journeys(const std::string& flow,
                                                 uint32_t version) {
  return impl_->count_of(flow, version, impl::journey_count::held,
                         std::chrono::seconds(10));
}

caf::expected<std::size_t> Engine::passivated_journeys(const std::string& flow,
                                                       uint32_t version) {
  // Counting many passivated journeys takes longer.
  return impl_->count_of(flow, version, impl::journey_count::passivated,
                         std::chrono::seconds(60));
}

// -- the journey sink ---------------------------------------------------------

void Engine::impl::save(const journey_snapshot& snapshot,
                        const std::vector<journal_entry>& chunk,
                        std::function<void(const caf::error&)> done) {
  bool terminal = is_terminal(snapshot.state);
  bool wanted = subscribers->wants(terminal);
  // Hook deliveries go into the outbox in the same commit as the change.
  std::vector<hook_delivery> deliveries;
  std::vector<write_op> outbox;
  if (hooks && hooks->wants(snapshot.flow, chunk)) {
    if (auto model = model_of(snapshot)) {
      deliveries = hooks->deliveries(snapshot, chunk, *model);
      outbox = hooks->outbox_ops(deliveries);
    }
  }
  if (!wanted && deliveries.empty() && !terminal && !done) {
    // Most saves: nothing to do once committed. The callback holds nothing
    // but the engine; the commit says whose save it was.
    journeys->save(
      snapshot, chunk, [this](const write_result& r) { saved(r); },
      std::move(outbox));
    return;
  }
  journey_id id{snapshot.order_id, snapshot.flow, snapshot.version};
  std::optional<journey_snapshot> copy;
  if (wanted)
    copy = snapshot;
  journeys->save(
    snapshot, chunk,
    [this, id = std::move(id), copy = std::move(copy), terminal,
     state = snapshot.state, deliveries = std::move(deliveries),
     done = std::move(done)](const write_result& r) mutable {
      auto err = journey_store::save_error(r);
      if (!err && !deliveries.empty())
        hooks->committed(std::move(deliveries));
      if (!err && terminal)
        metrics->journey_ended(id.flow, state);
      if (err) {
        // A journey still running is told and records the failure itself
        // as its last write, after every save it queued; one that ended
        // has quit: it is recorded here. The store keeps its last good
        // state.
        if (terminal)
          journey_failed(id.order_id, id.flow, id.version,
                         "its state could not be saved: " + describe(err));
        else if (!done)
          save_failed(id, err);
      } else if (copy) {
        notify(std::move(*copy));
      } else if (subscribers->wants(terminal)) {
        notify_stored(id);
      }
      if (done)
        done(err);
    },
    std::move(outbox));
}

void Engine::impl::saved(const write_result& r) {
  auto id = r.coalesce ? journey_id::from_key(*r.coalesce) : std::nullopt;
  if (!id)
    return;
  if (auto err = journey_store::save_error(r)) {
    save_failed(*id, err);
  } else if (subscribers->wants(false)) {
    notify_stored(*id);
  }
}

void Engine::impl::notify_stored(const journey_id& id) {
  if (auto now_stored = journeys->load_snapshot(id))
    notify(std::move(*now_stored));
}

void Engine::impl::save_failed(const journey_id& id, const caf::error& err) {
  caf::actor sup;
  {
    std::lock_guard<std::mutex> guard{mutex};
    auto it = supervisors.find({id.flow, id.version});
    if (it != supervisors.end())
      sup = it->second;
  }
  if (sup)
    caf::anon_send(sup, save_failed_atom::value, id.order_id, describe(err));
  else
    warn("a save of the journey of order " + quote(id.order_id) + " on flow "
         + quote(id.flow) + " version " + std::to_string(id.version)
         + " failed, and the flow version no longer runs: " + describe(err));
}

void Engine::impl::journey_failed(const std::string& order_id,
                                  const std::string& flow, uint32_t version,
                                  const std::string& reason) {
  warn("journey of order " + quote(order_id) + " on flow " + quote(flow)
       + " version " + std::to_string(version) + " failed: " + reason);
  journeys->mark_failed({order_id, flow, version}, reason, now(),
                        [this](std::optional<journey_snapshot> snap) {
                          if (!snap)
                            return;
                          notify(*snap);
                          report_failure_to_hooks(*snap);
                        });
}

void Engine::impl::report_failure_to_hooks(const journey_snapshot& snapshot) {
  if (!hooks)
    return;
  auto model = model_of(snapshot);
  if (!model)
    return;
  // The failure was written by a change computed inside its transaction;
  // its deliveries follow in a commit of their own, right after.
  journal_entry failed;
  failed.kind = journal_kind::state_changed;
  failed.state = snapshot.state;
  failed.at = snapshot.updated_on;
  auto deliveries = hooks->deliveries(snapshot, {failed}, *model);
  if (deliveries.empty())
    return;
  write_request req;
  req.ops = hooks->outbox_ops(deliveries);
  req.done = [this, deliveries = std::move(deliveries)](
               const write_result& result) mutable {
    if (result.applied)
      hooks->committed(std::move(deliveries));
  };
  writer->submit(std::move(req));
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

flow_ptr Engine::impl::model_of(const journey_snapshot& snapshot) {
  std::lock_guard<std::mutex> guard{mutex};
  auto m = model_for(snapshot.flow, snapshot.version);
  return m ? *m : nullptr;
}

void Engine::impl::notify(journey_snapshot snapshot) {
  if (auto model = model_of(snapshot))
    subscribers->publish(std::move(snapshot), std::move(model));
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
      self->request(sup, limit, count_running_atom::value)
        .receive(on_count, on_error);
      break;
    case journey_count::passivated:
      self->request(sup, limit, count_passivated_atom::value)
        .receive(on_count, on_error);
      break;
    case journey_count::held:
      self->request(sup, limit, count_held_atom::value)
        .receive(on_count, on_error);
      break;
  }
  return result;
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

caf::expected<Engine::impl::found_journey>
Engine::impl::find_journey(const std::string& order_id,
                           const std::optional<std::string>& flow) {
  std::vector<journey_id> found;
  caf::expected<journey_snapshot> snapshot = journey_snapshot{};
  auto err = journeys->scan(journey_prefix(order_id),
                            [&](const std::optional<journey_id>& id,
                                const caf::expected<journey_snapshot>& snap) {
                              if (id && (!flow || id->flow == *flow)) {
                                found.push_back(*id);
                                snapshot = snap;
                              }
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
  if (!snapshot)
    return snapshot.error();
  return found_journey{found.front(), std::move(*snapshot)};
}

} // namespace orca
