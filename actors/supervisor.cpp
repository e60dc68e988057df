#include "actors/supervisor.hpp"

#include <cstdint>
#include <unordered_map>
#include <unordered_set>

#include <caf/all.hpp>

#include "actors/journey.hpp"
#include "actors/journey_slots.hpp"
#include "actors/journey_protocol.hpp"

namespace orca {

namespace {

/// An exit message in the urgent part of `whom`'s mailbox: it is handled
/// before the messages that wait there (CAF takes exit_msg by its type,
/// whatever its priority).
void send_urgent_exit(caf::event_based_actor* self, const caf::actor& whom) {
  // Sent from the actor, not anonymously: an anonymous send schedules its
  // receiver through the scheduler's central queue, whose lock a hundred
  // thousand sends in a row contend for with the workers.
  self->send<caf::message_priority::high>(
    whom, caf::exit_msg{self->address(), caf::exit_reason::user_shutdown});
}

struct supervisor_state {
  services_ptr services;
  flow_ptr model;
  flow_clock_ptr flow_time;
  uint32_t version = 0;
  bool paused = false;
  /// The flow's cancel epoch as the last stop --cancel-in-flight gave it: a
  /// journey that started in an earlier one (an order whose intake crossed
  /// the stop) is cancelled as it starts.
  uint32_t cancel_epoch = 0;
  /// The slots live in memory of their own, apart from the memory of
  /// running journeys: a parked journey costs its slot, and the pages its
  /// actors used go back to the system once they stop (instead of being
  /// pinned by slots scattered among them).
  journey_slots journeys;
  std::unordered_map<caf::actor_addr, std::string> orders; ///< by actor
  std::unordered_set<caf::actor_addr> held; ///< journeys in state paused
  std::unordered_map<uint64_t, std::string> wake_tokens;
  uint64_t next_token = 1;
  /// Redrives that came before the end of the run they restart was seen
  /// (its actor's down message still on its way), by order id.
  std::unordered_map<std::string, std::pair<order_ptr, journey_snapshot>>
    redrives;

  static inline const char* name = "orca.supervisor";
};

using supervisor_actor = caf::stateful_actor<supervisor_state>;

void spawn_into(supervisor_actor* self, journey_slot& slot, order_ptr o,
                journey_snapshot snapshot) {
  auto& st = self->state;
  auto id = o->id();
  slot.actor = spawn_journey(self, st.services, st.model, st.flow_time,
                             std::move(o), std::move(snapshot), st.paused);
  slot.forwarded = 0;
  slot.wake_at = 0;
  st.orders[slot.actor.address()] = std::move(id);
}

/// Brings a passivated journey back from the store. Returns false (and
/// records it as failed) if it cannot be read.
bool reactivate(supervisor_actor* self, const std::string& order_id,
                journey_slot& slot) {
  auto& st = self->state;
  auto loaded = st.services->sink->load(order_id, st.model->name, st.version);
  if (!loaded) {
    st.services->sink->journey_failed(order_id, st.model->name, st.version,
                                      "cannot resume the journey: "
                                        + describe(loaded.error()));
    st.journeys.erase(order_id);
    return false;
  }
  if (slot.wake_token != 0)
    st.wake_tokens.erase(slot.wake_token);
  slot.wake_token = 0;
  spawn_into(self, slot, std::move(loaded->the_order),
             std::move(loaded->snapshot));
  // What the order received while the journey slept, delivered as it would
  // have been had it been awake (and journaled as such).
  for (auto& type : loaded->missed_events) {
    ++slot.forwarded;
    self->send(slot.actor, event_atom::value, std::move(type));
  }
  if (loaded->missed_cancel) {
    ++slot.forwarded;
    self->send(slot.actor, cancel_atom::value);
  }
  return true;
}

/// Delivers `msg` to the journey of `order_id`, waking it if it sleeps.
void deliver(supervisor_actor* self, const std::string& order_id,
             caf::message msg) {
  auto& st = self->state;
  auto* slot = st.journeys.find(order_id);
  if (slot == nullptr)
    return;
  if (!slot->actor && !reactivate(self, order_id, *slot))
    return;
  ++slot->forwarded;
  self->send(slot->actor, std::move(msg));
}

/// Sets the timer that wakes a passivated journey when its wait times out.
/// None while the flow is paused: its time stands still, and the resume
/// sets the timers again.
void set_wake_timer(supervisor_actor* self, const std::string& order_id,
                    journey_slot& slot) {
  auto& st = self->state;
  if (slot.wake_at == 0 || st.paused)
    return;
  auto delay = st.flow_time->until(slot.wake_at, st.services->time->now_ms());
  if (!delay)
    return;
  if (slot.wake_token != 0)
    st.wake_tokens.erase(slot.wake_token);
  slot.wake_token = st.next_token++;
  st.wake_tokens[slot.wake_token] = order_id;
  st.services->time->schedule(static_cast<uint32_t>(*delay),
                              caf::actor_cast<caf::actor>(self),
                              slot.wake_token);
}

void passivated(supervisor_actor* self, const std::string& order_id,
                journey_slot& slot, int64_t wake_at) {
  slot.actor = nullptr;
  slot.wake_at = wake_at;
  set_wake_timer(self, order_id, slot);
}

/// Lifts the pause: `msg` goes to every journey in memory, and the wake-up
/// timers of passivated ones run again.
void resume(supervisor_actor* self, const caf::message& msg) {
  auto& st = self->state;
  st.paused = false;
  st.journeys.for_each([&](const std::string& order_id, journey_slot& slot) {
    if (slot.actor) {
      ++slot.forwarded;
      self->send(slot.actor, msg);
    } else {
      set_wake_timer(self, order_id, slot);
    }
  });
}

/// Runs a journey of order `o` from `snapshot`, unless the order has one
/// here already (intake is idempotent).
void start(supervisor_actor* self, order_ptr o, journey_snapshot snapshot) {
  auto& st = self->state;
  auto id = o->id();
  auto [slot, added] = st.journeys.try_emplace(id);
  if (!added)
    return;
  bool cut = behind_a_stop(snapshot, st.cancel_epoch);
  spawn_into(self, *slot, std::move(o), std::move(snapshot));
  if (cut)
    deliver(self, id, caf::make_message(cancel_atom::value));
}

caf::behavior supervisor(supervisor_actor* self, services_ptr services,
                         flow_ptr model, flow_clock_ptr flow_time,
                         uint32_t version, bool paused) {
  self->state.services = std::move(services);
  self->state.model = std::move(model);
  self->state.flow_time = std::move(flow_time);
  self->state.version = version;
  self->state.paused = paused;
  // Stopping the supervisor (engine shutdown) stops its journeys with it;
  // they resume from their snapshots when the engine opens again.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    self->state.journeys.for_each([&](const std::string&, journey_slot& slot) {
      if (slot.actor)
        send_urgent_exit(self, slot.actor);
    });
    self->quit(msg.reason);
  });
  self->set_down_handler([self](caf::down_msg& down) {
    auto& st = self->state;
    auto it = st.orders.find(down.source);
    if (it == st.orders.end())
      return;
    auto order_id = it->second;
    st.orders.erase(it);
    st.held.erase(down.source);
    auto* slot = st.journeys.find(order_id);
    if (slot == nullptr || slot->actor.address() != down.source)
      return; // passivated (and perhaps woken again) already
    st.journeys.erase(order_id);
    if (down.reason && down.reason != caf::exit_reason::user_shutdown)
      st.services->sink->journey_failed(order_id, st.model->name, st.version,
                                        "the journey's actor died: "
                                          + describe(down.reason));
    auto redriven = st.redrives.find(order_id);
    if (redriven != st.redrives.end()) {
      auto [o, snapshot] = std::move(redriven->second);
      st.redrives.erase(redriven);
      start(self, std::move(o), std::move(snapshot));
    }
  });
  return {
    [self](start_atom, order_ptr& o, journey_snapshot& snapshot) {
      start(self, std::move(o), std::move(snapshot));
    },
    [self](redrive_atom, order_ptr& o, journey_snapshot& snapshot) {
      // The run that failed wrote its end before its actor quit: the
      // redrive may come before the supervisor hears of that. It then
      // waits for it, rather than being taken for a journey already here.
      auto& st = self->state;
      if (st.journeys.find(o->id()) != nullptr) {
        auto id = o->id();
        st.redrives.insert_or_assign(
          std::move(id), std::make_pair(std::move(o), std::move(snapshot)));
        return;
      }
      start(self, std::move(o), std::move(snapshot));
    },
    [self](park_atom, parked_journeys& parked) {
      // Waiting journeys found in the store at start-up.
      for (auto& [order_id, wake_at] : parked) {
        auto [slot, added] = self->state.journeys.try_emplace(order_id);
        if (added)
          passivated(self, order_id, *slot, wake_at);
      }
    },
    [self](passivate_atom, const std::string& order_id, int64_t wake_at,
           uint64_t received) {
      // A journey that waits asks to leave memory. It may, if it has seen
      // every message sent to it: then none is in flight, and whatever
      // comes next wakes it from the store.
      auto& st = self->state;
      auto* slot = st.journeys.find(order_id);
      auto sender = caf::actor_cast<caf::actor>(self->current_sender());
      if (slot == nullptr || slot->actor != sender
          || slot->forwarded != received)
        return false;
      st.orders.erase(sender.address());
      // Its end is no news: the slot no longer names it.
      self->demonitor(sender);
      passivated(self, order_id, *slot, wake_at);
      return true;
    },
    [self](timer_atom, uint64_t token) {
      auto& st = self->state;
      auto it = st.wake_tokens.find(token);
      if (it == st.wake_tokens.end())
        return;
      auto order_id = it->second;
      st.wake_tokens.erase(it);
      auto* slot = st.journeys.find(order_id);
      if (slot == nullptr || slot->actor || slot->wake_token != token)
        return;
      slot->wake_token = 0;
      // Paused since the timer was set, or paused and resumed: the wait has
      // the time it had left, from the resume.
      if (st.paused)
        return;
      auto left =
        st.flow_time->until(slot->wake_at, st.services->time->now_ms());
      if (left && *left > 0) {
        set_wake_timer(self, order_id, *slot);
        return;
      }
      reactivate(self, order_id, *slot);
    },
    [self](event_atom, const std::string& order_id, const std::string& type) {
      deliver(self, order_id, caf::make_message(event_atom::value, type));
    },
    [self](cancel_atom, const std::string& order_id) {
      deliver(self, order_id, caf::make_message(cancel_atom::value));
    },
    [self](pause_atom) {
      self->state.paused = true;
      self->state.journeys.for_each(
        [&](const std::string&, journey_slot& slot) {
          if (slot.actor) {
            ++slot.forwarded;
            self->send(slot.actor, pause_atom::value);
          }
        });
    },
    [self](resume_atom) {
      resume(self, caf::make_message(resume_atom::value));
    },
    [self](resume_atom, uint32_t latest, const caf::actor& home) {
      resume(self, caf::make_message(resume_atom::value, latest, home));
    },
    [self](save_failed_atom, const std::string& order_id,
           const std::string& why) {
      auto& st = self->state;
      auto* slot = st.journeys.find(order_id);
      if (slot != nullptr && slot->actor) {
        // Counted, so that a passivation the journey asks for before it
        // has read this is refused: it must stop on it, not leave memory.
        ++slot->forwarded;
        self->send(slot->actor, save_failed_atom::value, why);
        return;
      }
      // It ended, moved or left memory after a later save: what was
      // written of it stays, and the loss is said (a journey that ended
      // stays as it ended).
      st.services->sink->journey_failed(order_id, st.model->name, st.version,
                                        "its state could not be saved: " + why);
    },
    [self](move_in_atom, const std::string& order_id) {
      auto [slot, added] = self->state.journeys.try_emplace(order_id);
      if (added)
        reactivate(self, order_id, *slot);
    },
    [self](stop_atom, uint32_t cancel_epoch) {
      self->state.cancel_epoch = cancel_epoch;
      std::vector<std::string> ids;
      ids.reserve(self->state.journeys.size());
      self->state.journeys.for_each(
        [&](const std::string& id, journey_slot&) { ids.push_back(id); });
      for (const auto& id : ids)
        deliver(self, id, caf::make_message(cancel_atom::value));
    },
    [self](count_running_atom) {
      std::size_t running = 0;
      self->state.journeys.for_each(
        [&](const std::string&, journey_slot& slot) {
          running += slot.actor ? 1 : 0;
        });
      return running;
    },
    [self](held_atom, bool held) {
      auto& st = self->state;
      auto sender = caf::actor_cast<caf::actor_addr>(self->current_sender());
      if (!held)
        st.held.erase(sender);
      else if (st.orders.count(sender) > 0) // not a journey that ended
        st.held.insert(sender);
    },
    [self](count_held_atom) { return self->state.held.size(); },
    [self](count_passivated_atom) {
      std::size_t sleeping = 0;
      self->state.journeys.for_each(
        [&](const std::string&, journey_slot& slot) {
          sleeping += slot.actor ? 0 : 1;
        });
      return sleeping;
    },
    [self](journey_atom, const std::string& order_id) {
      auto* slot = self->state.journeys.find(order_id);
      return slot == nullptr ? caf::actor{} : slot->actor;
    },
  };
}

} // namespace

caf::actor spawn_supervisor(caf::actor_system& system, services_ptr services,
                            flow_ptr model, flow_clock_ptr flow_time,
                            uint32_t version, bool paused) {
  return system.spawn(supervisor, std::move(services), std::move(model),
                      std::move(flow_time), version, paused);
}

void stop_now(const caf::actor& actor) {
  caf::anon_send<caf::message_priority::high>(
    actor, caf::exit_msg{caf::actor_addr{}, caf::exit_reason::user_shutdown});
}

} // namespace orca
