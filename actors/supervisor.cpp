#include "actors/supervisor.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <memory_resource>
#include <new>
#include <unordered_map>
#include <unordered_set>

#include <caf/all.hpp>

#include "actors/journey.hpp"
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

/// One order's journey on this flow version: running as an actor, or
/// passivated (in the store only) until something wakes it.
struct journey_slot {
  caf::actor actor;       ///< invalid while passivated
  uint64_t forwarded = 0; ///< messages forwarded to the current actor
  /// Passivated: when (the flow's time) a wait times out; 0: never.
  int64_t wake_at = 0;
  uint64_t wake_token = 0;
};

/// Blocks of 2 MiB and more in transparent huge pages (where the kernel
/// gives them on request), smaller ones from the heap. A supervisor with ten
/// million parked journeys holds a gigabyte of slots and a hash table that
/// it reaches at random: with 4 KiB pages nearly every lookup also misses
/// the TLB.
class huge_page_memory final : public std::pmr::memory_resource {
public:
  static constexpr std::size_t huge = std::size_t{2} << 20;

private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    if (bytes < huge || alignment > huge)
      return heap()->allocate(bytes, alignment);
    // Mapped a huge page larger, then cut to start on a huge page boundary
    // (and end on the next small page's: the kernel backs what lies
    // beyond the last whole huge page with small ones).
    auto size = rounded(bytes);
    void* mapped = mmap(nullptr, size + huge, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED)
      throw std::bad_alloc{};
    auto start = reinterpret_cast<std::uintptr_t>(mapped);
    auto aligned = (start + huge - 1) & ~(huge - 1);
    if (aligned > start)
      munmap(mapped, aligned - start);
    if (auto tail = start + size + huge - (aligned + size); tail > 0)
      munmap(reinterpret_cast<void*>(aligned + size), tail);
    madvise(reinterpret_cast<void*>(aligned), size, MADV_HUGEPAGE);
    return reinterpret_cast<void*>(aligned);
  }

  void do_deallocate(void* p, std::size_t bytes,
                     std::size_t alignment) override {
    if (bytes < huge || alignment > huge)
      heap()->deallocate(p, bytes, alignment);
    else
      munmap(p, rounded(bytes));
  }

  bool
  do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  static std::pmr::memory_resource* heap() {
    return std::pmr::new_delete_resource();
  }

  static std::size_t rounded(std::size_t bytes) {
    constexpr std::size_t page = 4096;
    return (bytes + page - 1) & ~(page - 1);
  }
};

huge_page_memory* huge_pages() {
  static huge_page_memory memory;
  return &memory;
}

/// Chunks of slots grow to megabytes as a supervisor holds more journeys,
/// so that they come in huge pages.
std::pmr::pool_options slot_pools() {
  std::pmr::pool_options options;
  options.max_blocks_per_chunk = std::size_t{1} << 16;
  return options;
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
  /// The slots live in their own pool, apart from the memory of running
  /// journeys: a parked journey costs its slot, and the pages its actors
  /// used go back to the system once they stop (instead of being pinned by
  /// slots scattered among them).
  std::pmr::unsynchronized_pool_resource slot_memory{slot_pools(),
                                                     huge_pages()};
  std::pmr::unordered_map<std::string, journey_slot> journeys{&slot_memory};
  std::unordered_map<caf::actor_addr, std::string> orders; ///< by actor
  std::unordered_set<caf::actor_addr> held; ///< journeys in state paused
  std::unordered_map<uint64_t, std::string> wake_tokens;
  uint64_t next_token = 1;

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
  auto it = st.journeys.find(order_id);
  if (it == st.journeys.end())
    return;
  auto& slot = it->second;
  if (!slot.actor && !reactivate(self, order_id, slot))
    return;
  ++slot.forwarded;
  self->send(slot.actor, std::move(msg));
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
  for (auto& kv : st.journeys)
    if (kv.second.actor) {
      ++kv.second.forwarded;
      self->send(kv.second.actor, msg);
    } else {
      set_wake_timer(self, kv.first, kv.second);
    }
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
    for (const auto& kv : self->state.journeys)
      if (kv.second.actor)
        send_urgent_exit(self, kv.second.actor);
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
    auto slot = st.journeys.find(order_id);
    if (slot == st.journeys.end()
        || slot->second.actor.address() != down.source)
      return; // passivated (and perhaps woken again) already
    st.journeys.erase(slot);
    if (down.reason && down.reason != caf::exit_reason::user_shutdown)
      st.services->sink->journey_failed(order_id, st.model->name, st.version,
                                        "the journey's actor died: "
                                          + describe(down.reason));
  });
  return {
    [self](start_atom, order_ptr& o, journey_snapshot& snapshot) {
      auto& st = self->state;
      auto id = o->id();
      auto [it, added] = st.journeys.try_emplace(id);
      if (!added)
        return; // already here: intake is idempotent
      bool cut = behind_a_stop(snapshot, st.cancel_epoch);
      spawn_into(self, it->second, std::move(o), std::move(snapshot));
      if (cut)
        deliver(self, id, caf::make_message(cancel_atom::value));
    },
    [self](park_atom, parked_journeys& parked) {
      // Waiting journeys found in the store at start-up.
      for (auto& [order_id, wake_at] : parked) {
        auto [it, added] = self->state.journeys.try_emplace(order_id);
        if (added)
          passivated(self, order_id, it->second, wake_at);
      }
    },
    [self](passivate_atom, const std::string& order_id, int64_t wake_at,
           uint64_t received) {
      // A journey that waits asks to leave memory. It may, if it has seen
      // every message sent to it: then none is in flight, and whatever
      // comes next wakes it from the store.
      auto& st = self->state;
      auto it = st.journeys.find(order_id);
      auto sender = caf::actor_cast<caf::actor>(self->current_sender());
      if (it == st.journeys.end() || it->second.actor != sender
          || it->second.forwarded != received)
        return false;
      st.orders.erase(sender.address());
      // Its end is no news: the slot no longer names it.
      self->demonitor(sender);
      passivated(self, order_id, it->second, wake_at);
      return true;
    },
    [self](timer_atom, uint64_t token) {
      auto& st = self->state;
      auto it = st.wake_tokens.find(token);
      if (it == st.wake_tokens.end())
        return;
      auto order_id = it->second;
      st.wake_tokens.erase(it);
      auto slot = st.journeys.find(order_id);
      if (slot == st.journeys.end() || slot->second.actor
          || slot->second.wake_token != token)
        return;
      slot->second.wake_token = 0;
      // Paused since the timer was set, or paused and resumed: the wait has
      // the time it had left, from the resume.
      if (st.paused)
        return;
      auto left =
        st.flow_time->until(slot->second.wake_at, st.services->time->now_ms());
      if (left && *left > 0) {
        set_wake_timer(self, order_id, slot->second);
        return;
      }
      reactivate(self, order_id, slot->second);
    },
    [self](event_atom, const std::string& order_id, const std::string& type) {
      deliver(self, order_id, caf::make_message(event_atom::value, type));
    },
    [self](cancel_atom, const std::string& order_id) {
      deliver(self, order_id, caf::make_message(cancel_atom::value));
    },
    [self](pause_atom) {
      self->state.paused = true;
      for (auto& kv : self->state.journeys)
        if (kv.second.actor) {
          ++kv.second.forwarded;
          self->send(kv.second.actor, pause_atom::value);
        }
    },
    [self](resume_atom) {
      resume(self, caf::make_message(resume_atom::value));
    },
    [self](resume_atom, uint32_t latest, const caf::actor& home) {
      resume(self, caf::make_message(resume_atom::value, latest, home));
    },
    [self](move_in_atom, const std::string& order_id) {
      auto [it, added] = self->state.journeys.try_emplace(order_id);
      if (added)
        reactivate(self, order_id, it->second);
    },
    [self](stop_atom, uint32_t cancel_epoch) {
      self->state.cancel_epoch = cancel_epoch;
      std::vector<std::string> ids;
      for (const auto& kv : self->state.journeys)
        ids.push_back(kv.first);
      for (const auto& id : ids)
        deliver(self, id, caf::make_message(cancel_atom::value));
    },
    [self](count_running_atom) {
      std::size_t running = 0;
      for (const auto& kv : self->state.journeys)
        if (kv.second.actor)
          ++running;
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
      for (const auto& kv : self->state.journeys)
        if (!kv.second.actor)
          ++sleeping;
      return sleeping;
    },
    [self](journey_atom, const std::string& order_id) {
      auto it = self->state.journeys.find(order_id);
      return it == self->state.journeys.end() ? caf::actor{} : it->second.actor;
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
