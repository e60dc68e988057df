#include "actors/supervisor.hpp"

#include <unordered_map>

#include <caf/all.hpp>

#include "actors/journey.hpp"
#include "actors/journey_protocol.hpp"

namespace orca {

namespace {

struct supervisor_state {
  services_ptr services;
  flow_ptr model;
  uint32_t version = 0;
  bool paused = false;
  std::unordered_map<std::string, caf::actor> journeys;   ///< by order id
  std::unordered_map<caf::actor_addr, std::string> orders; ///< by journey

  static inline const char* name = "orca.supervisor";
};

using supervisor_actor = caf::stateful_actor<supervisor_state>;

caf::behavior supervisor(supervisor_actor* self, services_ptr services,
                         flow_ptr model, uint32_t version, bool paused) {
  self->state.services = std::move(services);
  self->state.model = std::move(model);
  self->state.version = version;
  self->state.paused = paused;
  // Stopping the supervisor (engine shutdown) stops its journeys with it;
  // they resume from their snapshots when the engine opens again.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (const auto& kv : self->state.journeys)
      self->send_exit(kv.second, caf::exit_reason::user_shutdown);
    self->quit(msg.reason);
  });
  self->set_down_handler([self](caf::down_msg& down) {
    auto& st = self->state;
    auto it = st.orders.find(down.source);
    if (it == st.orders.end())
      return;
    auto order_id = it->second;
    st.orders.erase(it);
    st.journeys.erase(order_id);
    if (down.reason && down.reason != caf::exit_reason::user_shutdown)
      st.services->sink->journey_died(order_id, st.model->name, st.version,
                                      describe(down.reason));
  });
  return {
    [self](start_atom, order_ptr& o, journey_snapshot& snapshot) {
      auto& st = self->state;
      auto id = o->id();
      if (st.journeys.count(id) > 0)
        return; // already running: intake is idempotent
      auto journey = spawn_journey(self, st.services, st.model, std::move(o),
                                   std::move(snapshot), st.paused);
      st.orders[journey.address()] = id;
      st.journeys.emplace(std::move(id), std::move(journey));
    },
    [self](event_atom, const std::string& order_id, const std::string& type) {
      auto& st = self->state;
      if (auto it = st.journeys.find(order_id); it != st.journeys.end())
        self->send(it->second, event_atom::value, type);
    },
    [self](cancel_atom, const std::string& order_id) {
      auto& st = self->state;
      if (auto it = st.journeys.find(order_id); it != st.journeys.end())
        self->send(it->second, cancel_atom::value);
    },
    [self](pause_atom) {
      self->state.paused = true;
      for (const auto& kv : self->state.journeys)
        self->send(kv.second, pause_atom::value);
    },
    [self](resume_atom) {
      self->state.paused = false;
      for (const auto& kv : self->state.journeys)
        self->send(kv.second, resume_atom::value);
    },
    [self](stop_atom, bool cancel_in_flight) {
      if (cancel_in_flight)
        for (const auto& kv : self->state.journeys)
          self->send(kv.second, cancel_atom::value);
    },
    [self](count_atom) { return self->state.journeys.size(); },
    [self](journey_atom, const std::string& order_id) {
      auto it = self->state.journeys.find(order_id);
      return it == self->state.journeys.end() ? caf::actor{} : it->second;
    },
  };
}

} // namespace

caf::actor spawn_supervisor(caf::actor_system& system, services_ptr services,
                            flow_ptr model, uint32_t version, bool paused) {
  return system.spawn(supervisor, std::move(services), std::move(model),
                      version, paused);
}

} // namespace orca
