#include "engine/node.hpp"

#include <atomic>
#include <chrono>
#include <random>
#include <type_traits>
#include <map>
#include <set>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include "actors/blocking_pool.hpp"
#include "engine/node_protocol.hpp"
#include "engine/operations.hpp"

namespace orca {

void register_node_types(caf::actor_system_config& cfg) {
  register_wire_types(cfg);
  cfg.add_message_type<flow_detail>("orca::flow_detail");
  cfg.add_message_type<library_policy>("orca::library_policy");
  cfg.add_message_type<std::vector<library_policy>>(
    "std::vector<orca::library_policy>");
  cfg.add_message_type<submit_outcome>("orca::submit_outcome");
  cfg.add_message_type<wire_query>("orca::wire_query");
  cfg.add_message_type<timeline_entry>("orca::timeline_entry");
  cfg.add_message_type<journey_view>("orca::journey_view");
  cfg.add_message_type<replay_view>("orca::replay_view");
  cfg.add_message_type<provider_view>("orca::provider_view");
  cfg.add_message_type<node_status>("orca::node_status");
  cfg.add_message_type<hook_status>("orca::hook_status");
  cfg.add_message_type<std::vector<hook_status>>(
    "std::vector<orca::hook_status>");
  cfg.add_message_type<std::vector<uint32_t>>("std::vector<uint32_t>");
}

void speak_node_protocol(caf::actor_system_config& cfg) {
  cfg.load<caf::io::middleman>();
  cfg.set("middleman.workers", size_t{0});
  register_node_types(cfg);
}

std::set<std::string> node_type_names() {
  caf::actor_system_config cfg;
  register_node_types(cfg);
  std::set<std::string> names;
  for (const auto& [type, name] : cfg.type_names_by_rtti)
    names.insert(name);
  return names;
}

namespace {

/// An answer computed away from the node's actor: (answered_atom, token,
/// message), the message holding the answer or the error.
using answered_atom = caf::atom_constant<caf::atom("answered")>;
/// A journey update from the engine, to pass on to subscribers.
using forward_atom = caf::atom_constant<caf::atom("forward")>;

/// Updates sent to a remote subscriber that it has not acknowledged yet,
/// past which the node drops its updates instead of buffering them.
constexpr std::size_t max_unacknowledged_updates = 1024;

struct subscriber {
  caf::actor handle;
  std::set<std::string> orders; ///< empty: every order
  std::size_t unacknowledged = 0;
  uint64_t dropped = 0;
};

struct node_state {
  Engine* engine = nullptr;
  node_identity identity;
  uint64_t subscription = 0;
  std::shared_ptr<std::atomic<bool>> forwarding =
    std::make_shared<std::atomic<bool>>(false);
  std::map<caf::actor_addr, subscriber> subscribers;
  std::map<caf::actor_addr, std::string> providers; ///< remote, by client
  /// Requests whose answer comes later (from a commit or the node's
  /// thread), by token.
  pending_answers pending;
  /// Calls into the engine that may block (waiting for a commit or for the
  /// journeys' supervisors) run here, one after the other, in the order
  /// the requests came.
  std::unique_ptr<blocking_pool> pool = std::make_unique<blocking_pool>(1);
  /// Set by drain: new requests are refused; the promise is kept until
  /// every pending request has its answer.
  bool draining = false;
  caf::response_promise drained;
  /// Marks the journey updates the engine's subscription hands the node.
  uint64_t secret = std::random_device{}() * uint64_t{0x9E3779B97F4A7C15}
    ^ std::random_device{}();

  static inline const char* name = "orca.node";
};

using node_actor = caf::stateful_actor<node_state>;

/// Keeps the current request's promise; returns its token.
uint64_t keep_promise(node_actor* self) {
  return self->state.pending.keep(self->make_response_promise());
}

/// Sends the node the answer for `token`, from any thread.
void answer(const caf::weak_actor_ptr& node, uint64_t token, caf::message msg) {
  if (auto strong = node.lock())
    caf::anon_send(caf::actor_cast<caf::actor>(strong), answered_atom::value,
                   token, std::move(msg));
}

/// A request's answer as a message: the value, or the error.
template <class T>
caf::message as_answer(T value) {
  return caf::make_message(std::move(value));
}

template <class T>
caf::message as_answer(caf::expected<T> x) {
  return x ? caf::make_message(std::move(*x)) : caf::make_message(x.error());
}

template <class T>
struct unwrapped {
  using type = T;
};

template <class T>
struct unwrapped<caf::expected<T>> {
  using type = T;
};

/// Runs `work` on the node's thread and answers the current request with
/// what it returns (a value, or an expected value).
template <class F>
auto later(node_actor* self, F work)
  -> caf::delegated<typename unwrapped<decltype(work())>::type> {
  auto& st = self->state;
  answer_from_pool<answered_atom>(
    self, st.pending, *st.pool,
    [work = std::move(work)]() mutable { return as_answer(work()); });
  return {};
}

caf::error stopping() {
  return make_error(errc::engine_stopped, "the node is stopping");
}

/// Answers the drain request and ends the node: every request it took has
/// its answer (the node's thread is idle, nothing is pending).
void finish_draining(node_actor* self) {
  auto& st = self->state;
  st.pool.reset();
  st.drained.deliver(caf::ok_atom::value);
  self->quit();
}

/// Whether the current message was sent by an actor of this process.
bool from_here(node_actor* self) {
  const auto& sender = self->current_sender();
  return sender && sender->node() == self->node();
}

caf::behavior node(node_actor* self, Engine* engine, node_identity identity) {
  auto& st = self->state;
  st.engine = engine;
  st.identity = std::move(identity);
  // Journey changes come from the engine's writer thread; they are passed
  // through this actor only while somebody listens.
  auto node_handle = caf::actor_cast<caf::actor>(self);
  auto forwarding = st.forwarding;
  st.subscription = engine->subscribe(
    [node_handle, forwarding, secret = st.secret](const journey_record& r) {
      if (forwarding->load())
        caf::anon_send(node_handle, forward_atom::value, secret, r);
    });
  self->attach_functor(
    [engine, id = st.subscription] { engine->unsubscribe(id); });
  // A message the node does not understand is dropped unread. CAF's default
  // prints it first, and printing a malformed value (a caf::duration with a
  // bad unit, found by fuzzing) crashes CAF 0.17.
  self->set_default_handler(caf::drop);
  self->set_down_handler([self](caf::down_msg& down) {
    auto& s = self->state;
    s.subscribers.erase(down.source);
    s.providers.erase(down.source);
    s.forwarding->store(!s.subscribers.empty());
  });
  // An answer computed away from the node's actor; once the node drains,
  // the last one ends it.
  auto on_answered = [self](answered_atom, uint64_t token, caf::message& msg) {
    auto& s = self->state;
    bool answered = s.pending.deliver(token, std::move(msg));
    if (answered && s.draining && s.pending.empty())
      finish_draining(self);
  };
  // A journey update from the engine's subscription, passed on to the
  // subscribers that want it.
  auto on_forward = [self](forward_atom, uint64_t secret,
                           const journey_record& r) {
    if (secret != self->state.secret)
      return; // not from the engine's subscription
    // Each update is acknowledged by the subscriber; one that stops
    // reading loses updates (counted) instead of making the node buffer
    // them for it.
    for (auto& [addr, sub] : self->state.subscribers) {
      if (!sub.orders.empty() && sub.orders.count(r.order_id) == 0)
        continue;
      if (sub.unacknowledged >= max_unacknowledged_updates) {
        ++sub.dropped;
        continue;
      }
      ++sub.unacknowledged;
      self->request(sub.handle, caf::infinite, journey_update_atom::value, r)
        .then(
          [self, addr = addr](caf::ok_atom) {
            auto it = self->state.subscribers.find(addr);
            if (it != self->state.subscribers.end()
                && it->second.unacknowledged > 0)
              --it->second.unacknowledged;
          },
          [](caf::error&) {
            // The subscriber went away: its down message removes it.
          });
    }
  };
  return {
    // -- flows ----------------------------------------------------------------
    [self](flow_create_atom, std::string& json,
           std::string& origin) -> caf::result<flow_record> {
      return later(
        self,
        [e = self->state.engine, json = std::move(json),
         origin = std::move(origin)] { return e->create_flow(json, origin); });
    },
    [self](flow_update_atom, std::string& json,
           std::string& origin) -> caf::result<flow_record> {
      return later(
        self,
        [e = self->state.engine, json = std::move(json),
         origin = std::move(origin)] { return e->update_flow(json, origin); });
    },
    [self](flow_publish_atom, std::string& name) -> caf::result<uint32_t> {
      return later(self, [e = self->state.engine, name = std::move(name)] {
        return e->publish_flow(name);
      });
    },
    [self](flow_stop_atom, std::string& name,
           bool cancel) -> caf::result<flow_record> {
      return later(self,
                   [e = self->state.engine, name = std::move(name),
                    cancel]() -> caf::expected<flow_record> {
                     if (auto err = e->stop_flow(name, cancel))
                       return err;
                     return e->get_flow(name);
                   });
    },
    [self](flow_pause_atom, std::string& name) -> caf::result<flow_record> {
      return later(self,
                   [e = self->state.engine,
                    name = std::move(name)]() -> caf::expected<flow_record> {
                     if (auto err = e->pause_flow(name))
                       return err;
                     return e->get_flow(name);
                   });
    },
    [self](flow_resume_atom, std::string& name) -> caf::result<flow_record> {
      return later(self,
                   [e = self->state.engine,
                    name = std::move(name)]() -> caf::expected<flow_record> {
                     if (auto err = e->resume_flow(name))
                       return err;
                     return e->get_flow(name);
                   });
    },
    // -- the policy library ---------------------------------------------------
    [self](policy_put_atom, std::string& json,
           std::string& origin) -> caf::result<std::vector<library_policy>> {
      return later(
        self,
        [e = self->state.engine, json = std::move(json),
         origin = std::move(origin)] { return e->put_policies(json, origin); });
    },
    [self](policy_list_atom) -> caf::result<std::vector<library_policy>> {
      return later(self,
                   [e = self->state.engine] { return e->list_policies(); });
    },
    [self](policy_show_atom, std::string& name) -> caf::result<library_policy> {
      return later(self, [e = self->state.engine, name = std::move(name)] {
        return e->get_policy(name);
      });
    },
    [self](policy_delete_atom,
           std::string& name) -> caf::result<library_policy> {
      return later(self, [e = self->state.engine, name = std::move(name)] {
        return e->delete_policy(name);
      });
    },
    [self](flow_list_atom) -> caf::result<std::vector<flow_record>> {
      return later(self, [e = self->state.engine] { return e->list_flows(); });
    },
    [self](flow_show_atom, std::string& name,
           uint32_t version) -> caf::result<flow_detail> {
      return later(self,
                   [e = self->state.engine, name = std::move(name), version] {
                     return show_flow(*e, name, version);
                   });
    },
    // -- orders ---------------------------------------------------------------
    [self](order_submit_atom, std::vector<std::string>& orders)
      -> caf::result<std::vector<submit_outcome>> {
      auto token = keep_promise(self);
      caf::weak_actor_ptr me{self->ctrl()};
      self->state.engine->submit_async(
        std::move(orders), [me, token](std::vector<submit_result> results) {
          // A submission the node took none of (busy, store full, too
          // large) is answered with that error.
          bool none_taken = !results.empty();
          for (const auto& r : results)
            if (!r.refusal)
              none_taken = false;
          if (none_taken) {
            answer(me, token, caf::make_message(results.front().refusal));
            return;
          }
          std::vector<submit_outcome> out;
          out.reserve(results.size());
          for (const auto& r : results)
            out.push_back(to_outcome(r));
          answer(me, token, caf::make_message(std::move(out)));
        });
      return caf::delegated<std::vector<submit_outcome>>{};
    },
    [self](order_event_atom, std::string& order_id,
           std::string& type) -> caf::result<caf::atom_value> {
      auto token = keep_promise(self);
      caf::weak_actor_ptr me{self->ctrl()};
      self->state.engine->events_async(
        {{std::move(order_id), std::move(type)}},
        [me, token](std::vector<caf::error> errs) {
          auto& err = errs.front();
          answer(me, token,
                 err ? caf::make_message(err)
                     : caf::make_message(caf::ok_atom::value));
        });
      return caf::delegated<caf::atom_value>{};
    },
    on_answered,
    // -- journeys -------------------------------------------------------------
    [self](journey_list_atom,
           const wire_query& q) -> caf::result<std::vector<journey_record>> {
      journey_query query;
      query.flow = given(q.flow);
      if (!q.state.empty()) {
        auto state = journey_state_from(q.state);
        if (!state || *state != visible_state(*state))
          return make_error(errc::invalid_argument,
                            "--state: unknown journey state " + quote(q.state)
                              + " (running, waiting, paused, "
                                "completed, failed, cancelled, skipped)");
        query.state = *state;
      }
      query.limit = q.limit;
      return later(self, [e = self->state.engine, query = std::move(query)] {
        return e->list_journeys(query);
      });
    },
    [self](journey_show_atom, std::string& order_id,
           std::string& flow) -> caf::result<std::vector<journey_view>> {
      return later(
        self,
        [e = self->state.engine, order_id = std::move(order_id),
         flow = std::move(flow)] { return show_journeys(*e, order_id, flow); });
    },
    [self](journey_replay_atom, std::string& order_id, std::string& flow,
           uint32_t against) -> caf::result<replay_view> {
      return later(self,
                   [e = self->state.engine, order_id = std::move(order_id),
                    flow = std::move(flow), against] {
                     return replay_journey(*e, order_id, flow, against);
                   });
    },
    [self](journey_redrive_atom, std::string& order_id,
           std::string& flow) -> caf::result<journey_record> {
      return later(
        self,
        [e = self->state.engine, order_id = std::move(order_id),
         flow = std::move(flow)] { return e->redrive(order_id, given(flow)); });
    },
    // -- providers and the node -----------------------------------------------
    [self](provider_list_atom) {
      auto& s = self->state;
      std::set<std::string> connected;
      for (const auto& kv : s.providers)
        connected.insert(kv.second);
      std::vector<provider_view> result;
      for (const auto& p : s.engine->providers())
        result.push_back(
          {p.id, p.kind, p.kind != "remote" || connected.count(p.id) > 0});
      return result;
    },
    [self](hook_list_atom) { return self->state.engine->hooks(); },
    [self](provider_register_atom,
           const std::string& id) -> caf::result<caf::atom_value> {
      auto client = caf::actor_cast<caf::actor>(self->current_sender());
      if (!client)
        return make_error(errc::invalid_argument,
                          "a provider registers from an actor");
      if (auto err = self->state.engine->register_remote_provider(id, client))
        return err;
      self->monitor(client);
      self->state.providers[client.address()] = id;
      return caf::ok_atom::value;
    },
    [self](node_status_atom) -> caf::result<node_status> {
      auto& s = self->state;
      node_status status;
      status.listen = s.identity.listen;
      status.data_dir = s.identity.data_dir;
      status.started_on = s.identity.started_on;
      status.clients = s.subscribers.size() + s.providers.size();
      return later(self, [e = s.engine, status]() mutable {
        return fill_status(*e, status);
      });
    },
    [self](listen_atom, const std::string& address) {
      // Only the process that published the node may say where it listens.
      if (from_here(self))
        self->state.identity.listen = address;
    },
    [self, on_answered,
     on_forward](drain_atom) -> caf::result<caf::atom_value> {
      // Only the process that runs the node may stop it.
      if (!from_here(self))
        return make_error(errc::invalid_argument,
                          "only the node's own process may stop it");
      auto& s = self->state;
      s.draining = true;
      s.drained = self->make_response_promise();
      if (s.pending.empty()) {
        finish_draining(self);
        return caf::delegated<caf::atom_value>{};
      }
      // From now on the node only finishes what it took: it hears the
      // answers it waits for, and refuses every other request.
      self->set_default_handler(
        [](caf::scheduled_actor*,
           caf::message_view&) -> caf::result<caf::message> {
          return stopping();
        });
      self->become(caf::behavior{on_answered, on_forward});
      return caf::delegated<caf::atom_value>{};
    },
    [self](subscribe_atom, std::vector<std::string>& orders) {
      auto& s = self->state;
      auto client = caf::actor_cast<caf::actor>(self->current_sender());
      if (client) {
        self->monitor(client);
        s.subscribers[client.address()] =
          subscriber{client, {orders.begin(), orders.end()}};
        s.forwarding->store(true);
      }
      return caf::ok_atom::value;
    },
    on_forward,
  };
}

} // namespace

caf::actor spawn_node(Engine& engine, node_identity identity) {
  return engine.system().spawn(node, &engine, std::move(identity));
}

} // namespace orca
