// Recovery: at start-up, every journey that had not ended goes on, from
// the store: waiting ones stay there until woken, the others run again;
// those a resume had moved, or a stop had cancelled, before a crash get
// that move or cancel now.

#include "engine/engine_impl.hpp"

#include <future>
#include <map>

#include "actors/path_runner.hpp"
#include "actors/supervisor.hpp"

namespace orca {

namespace {

/// Waiting journeys handed to a supervisor in one message at start-up.
constexpr std::size_t park_batch = 4096;

/// The version a journey found at recovery belongs on, if not its own, by
/// its flow's record `rec` (nullptr: a flow not known): the one the last
/// resume moved journeys to, when it started no step before that resume
/// (a crash came between the resume and its moves).
std::optional<uint32_t> moved_up_to(const journey_snapshot& snap,
                                    const flow_record* rec) {
  if (rec == nullptr || rec->paused || snap.version >= rec->resumed_to
      || snap.created_on > rec->resumed_on || started_a_step(snap))
    return std::nullopt;
  return rec->resumed_to;
}

} // namespace

caf::error Engine::impl::recover_journeys() {
  std::vector<std::pair<journey_id, std::string>> damaged;
  std::vector<journey_id> restart;
  std::vector<std::pair<journey_id, uint32_t>> moving;
  // Waiting journeys go to their version's supervisor in batches while the
  // scan goes on: the supervisor files them on one core while the scan
  // reads on the other, and ten million of them are never all in a list.
  // (A scan that fails part way fails the open, and the engine stops the
  // supervisors that had journeys already.)
  std::map<std::pair<std::string, uint32_t>, parked_journeys> parking;
  // No flow changes while the store opens: each flow's record and each
  // version's model are looked up once, not under the engine's mutex for
  // every journey.
  std::map<std::string, flow_record> flows_now;
  {
    std::lock_guard<std::mutex> guard{mutex};
    flows_now = records;
  }
  auto record_of = [&](const std::string& flow) -> const flow_record* {
    auto it = flows_now.find(flow);
    return it == flows_now.end() ? nullptr : &it->second;
  };
  std::map<std::pair<std::string, uint32_t>, flow_ptr> models_now;
  auto model_of = [&](const std::string& flow, uint32_t version) {
    auto [it, fresh] = models_now.try_emplace({flow, version});
    if (fresh) {
      std::lock_guard<std::mutex> guard{mutex};
      if (auto found = model_for(flow, version))
        it->second = std::move(*found);
    }
    return it->second; // null: the restart reports why
  };
  auto park = [&](const std::pair<std::string, uint32_t>& version,
                  parked_journeys& batch) {
    if (batch.empty())
      return;
    std::unique_lock<std::mutex> guard{mutex};
    auto sup = supervisor_for(version.first, version.second);
    guard.unlock();
    if (sup) {
      caf::anon_send(*sup, park_atom::value, std::move(batch));
    } else {
      // Not expected (its model loaded for parked_until); restarting them
      // fails them, saying why.
      for (auto& [order_id, wake_at] : batch)
        restart.push_back(
          journey_id{std::move(order_id), version.first, version.second});
    }
    batch = {};
  };
  // Whether the snapshot may stay parked, and until when: it waits, its
  // order got nothing since it was taken, and no waiting path's event is
  // among those it took (then that path is about to go on).
  auto parked_until =
    [&](const journey_snapshot& snap, const flow_record* rec,
        const journey_store::order_reader& order) -> std::optional<int64_t> {
    if (snap.state != journey_state::waiting || !services->passivate_waiting
        || has_missed_input(snap, rec ? rec->cancel_epoch : 0, order))
      return std::nullopt;
    auto model = model_of(snap.flow, snap.version);
    if (!model)
      return std::nullopt;
    return sleep_until(*model, snap.paths, snap.events);
  };
  auto err = journeys->scan_with_orders([&](
                                          const std::optional<journey_id>& id,
                                          caf::expected<journey_snapshot> snap,
                                          const journey_store::order_reader&
                                            order) {
    if (!snap) {
      if (id)
        damaged.emplace_back(*id, describe(snap.error()));
      else
        warn("skipping an unreadable journey key: " + describe(snap.error()));
      return true;
    }
    if (is_terminal(snap->state))
      return true;
    auto rec = record_of(snap->flow);
    if (auto to = moved_up_to(*snap, rec)) {
      moving.emplace_back(journey_id{snap->order_id, snap->flow, snap->version},
                          *to);
      return true;
    }
    // A waiting journey whose order received an event or a cancel after
    // its snapshot (acknowledged, then the node stopped before the
    // journey saved) must run to take it: it is not parked.
    if (auto wake_at = parked_until(*snap, rec, order)) {
      auto version = std::make_pair(std::move(snap->flow), snap->version);
      auto& batch = parking[version];
      batch.emplace_back(std::move(snap->order_id), *wake_at);
      if (batch.size() >= park_batch)
        park(version, batch);
    } else {
      restart.push_back(journey_id{snap->order_id, snap->flow, snap->version});
    }
    return true;
  });
  if (err)
    return err;
  for (auto& [version, batch] : parking)
    park(version, batch);
  for (const auto& [id, why] : damaged)
    journey_failed(id.order_id, id.flow, id.version,
                   "its record is damaged: " + why);
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
  // Runs a journey again from `loaded`, what the store has of it.
  auto run_again = [&](const journey_id& id, restart_point loaded) {
    std::lock_guard<std::mutex> guard{mutex};
    auto sup = supervisor_or_fail(id);
    if (!sup)
      return;
    caf::anon_send(sup, start_atom::value, loaded.the_order,
                   std::move(loaded.snapshot));
    for (const auto& type : loaded.missed_events)
      caf::anon_send(sup, event_atom::value, id.order_id, type);
    if (loaded.missed_cancel)
      caf::anon_send(sup, cancel_atom::value, id.order_id);
  };
  for (const auto& [id, to] : moving)
    if (auto moved = move_up(id, to))
      run_again(journey_id{id.order_id, id.flow, to}, std::move(*moved));
  for (const auto& id : restart) {
    auto loaded = load(id.order_id, id.flow, id.version);
    if (!loaded) {
      journey_failed(id.order_id, id.flow, id.version,
                     "cannot resume it: " + describe(loaded.error()));
      continue;
    }
    run_again(id, std::move(*loaded));
  }
  return caf::none;
}

bool Engine::impl::cancelled_by_stop(const journey_snapshot& snap) const {
  return behind_a_stop(snap, cancel_epoch_of(snap.flow));
}

bool Engine::impl::has_missed_input(const journey_snapshot& snap,
                                    uint32_t cancel_epoch,
                                    const journey_store::order_reader& order) {
  if (behind_a_stop(snap, cancel_epoch))
    return true;
  auto rec = order();
  // An unreadable order is reported when the journey restarts from it.
  return !rec || !missed_since(snap, *rec).empty();
}

std::optional<restart_point> Engine::impl::move_up(const journey_id& id,
                                                   uint32_t to) {
  auto loaded = load(id.order_id, id.flow, id.version);
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
  // What the order received since is as the store said: the move keeps
  // the journey's events and cancel.
  loaded->snapshot = std::move(next);
  return std::move(*loaded);
}

} // namespace orca
