#include "engine/node.hpp"

#include <atomic>
#include <map>
#include <set>
#include <unordered_map>

#include <caf/all.hpp>

#include "engine/node_protocol.hpp"

namespace orca {

void register_node_types(caf::actor_system_config& cfg) {
  register_wire_types(cfg);
  cfg.add_message_type<flow_detail>("orca::flow_detail");
  cfg.add_message_type<submit_outcome>("orca::submit_outcome");
  cfg.add_message_type<wire_query>("orca::wire_query");
  cfg.add_message_type<timeline_entry>("orca::timeline_entry");
  cfg.add_message_type<journey_view>("orca::journey_view");
  cfg.add_message_type<replay_view>("orca::replay_view");
  cfg.add_message_type<provider_view>("orca::provider_view");
  cfg.add_message_type<node_status>("orca::node_status");
  cfg.add_message_type<std::vector<uint32_t>>("std::vector<uint32_t>");
}

namespace {

using submitted_atom = caf::atom_constant<caf::atom("submitted")>;
using evented_atom = caf::atom_constant<caf::atom("evented")>;

struct subscriber {
  caf::actor handle;
  std::set<std::string> orders; ///< empty: every order
};

struct node_state {
  Engine* engine = nullptr;
  node_identity identity;
  uint64_t subscription = 0;
  std::shared_ptr<std::atomic<bool>> forwarding =
    std::make_shared<std::atomic<bool>>(false);
  std::map<caf::actor_addr, subscriber> subscribers;
  std::map<caf::actor_addr, std::string> providers; ///< remote, by client
  uint64_t next_token = 1;
  std::unordered_map<uint64_t, caf::response_promise> pending;

  static inline const char* name = "orca.node";
};

using node_actor = caf::stateful_actor<node_state>;

submit_outcome to_outcome(const submit_result& r) {
  return {r.order_id, to_string(r.status), r.error};
}

std::optional<std::string> given(const std::string& text) {
  if (text.empty())
    return std::nullopt;
  return text;
}

caf::expected<flow_detail> show_flow(Engine& engine, const std::string& name,
                                     uint32_t version) {
  auto rec = engine.get_flow(name);
  if (!rec)
    return rec.error();
  flow_detail detail;
  detail.record = *rec;
  for (uint32_t v = 1; v <= rec->latest_version; ++v)
    detail.versions.push_back(v);
  if (version == 0 && rec->latest_version == 0) {
    detail.definition = rec->draft;
    return detail;
  }
  detail.version = version == 0 ? rec->latest_version : version;
  auto frozen = engine.flow_version(name, detail.version);
  if (!frozen)
    return frozen.error();
  detail.definition = frozen->definition;
  return detail;
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
    [node_handle, forwarding](const journey_record& r) {
      if (forwarding->load())
        caf::anon_send(node_handle, journey_update_atom::value, r);
    });
  self->attach_functor([engine, id = st.subscription] {
    engine->unsubscribe(id);
  });
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
  return {
    // -- flows ----------------------------------------------------------------
    [self](flow_create_atom, const std::string& json, const std::string& origin) {
      return self->state.engine->create_flow(json, origin);
    },
    [self](flow_update_atom, const std::string& json, const std::string& origin) {
      return self->state.engine->update_flow(json, origin);
    },
    [self](flow_publish_atom, const std::string& name) {
      return self->state.engine->publish_flow(name);
    },
    [self](flow_stop_atom, const std::string& name,
           bool cancel) -> caf::expected<flow_record> {
      if (auto err = self->state.engine->stop_flow(name, cancel))
        return err;
      return self->state.engine->get_flow(name);
    },
    [self](flow_pause_atom, const std::string& name) -> caf::expected<flow_record> {
      if (auto err = self->state.engine->pause_flow(name))
        return err;
      return self->state.engine->get_flow(name);
    },
    [self](flow_resume_atom, const std::string& name) -> caf::expected<flow_record> {
      if (auto err = self->state.engine->resume_flow(name))
        return err;
      return self->state.engine->get_flow(name);
    },
    [self](flow_list_atom) { return self->state.engine->list_flows(); },
    [self](flow_show_atom, const std::string& name, uint32_t version) {
      return show_flow(*self->state.engine, name, version);
    },
    // -- orders ---------------------------------------------------------------
    [self](order_submit_atom, std::vector<std::string>& orders)
      -> caf::result<std::vector<submit_outcome>> {
      auto& s = self->state;
      auto token = s.next_token++;
      s.pending.emplace(token, self->make_response_promise());
      auto me = caf::actor_cast<caf::actor>(self);
      s.engine->submit_async(
        std::move(orders), [me, token](std::vector<submit_result> results) {
          // A submission the node took none of (busy, store full, too
          // large) is answered with that error.
          bool none_taken = !results.empty();
          for (const auto& r : results)
            if (!r.refusal)
              none_taken = false;
          if (none_taken) {
            caf::anon_send(me, submitted_atom::value, token,
                           results.front().refusal);
            return;
          }
          std::vector<submit_outcome> out;
          out.reserve(results.size());
          for (const auto& r : results)
            out.push_back(to_outcome(r));
          caf::anon_send(me, submitted_atom::value, token, std::move(out));
        });
      return caf::delegated<std::vector<submit_outcome>>{};
    },
    [self](submitted_atom, uint64_t token, std::vector<submit_outcome>& out) {
      auto it = self->state.pending.find(token);
      if (it == self->state.pending.end())
        return;
      it->second.deliver(std::move(out));
      self->state.pending.erase(it);
    },
    [self](submitted_atom, uint64_t token, caf::error& refusal) {
      auto it = self->state.pending.find(token);
      if (it == self->state.pending.end())
        return;
      it->second.deliver(std::move(refusal));
      self->state.pending.erase(it);
    },
    [self](order_event_atom, std::string& order_id,
           std::string& type) -> caf::result<caf::atom_value> {
      auto& s = self->state;
      auto token = s.next_token++;
      s.pending.emplace(token, self->make_response_promise());
      auto me = caf::actor_cast<caf::actor>(self);
      s.engine->events_async({{std::move(order_id), std::move(type)}},
                             [me, token](std::vector<caf::error> errs) {
                               caf::anon_send(me, evented_atom::value, token,
                                              std::move(errs.front()));
                             });
      return caf::delegated<caf::atom_value>{};
    },
    [self](evented_atom, uint64_t token, caf::error& err) {
      auto it = self->state.pending.find(token);
      if (it == self->state.pending.end())
        return;
      if (err)
        it->second.deliver(std::move(err));
      else
        it->second.deliver(caf::ok_atom::value);
      self->state.pending.erase(it);
    },
    // -- journeys -------------------------------------------------------------
    [self](journey_list_atom,
           const wire_query& q) -> caf::expected<std::vector<journey_record>> {
      journey_query query;
      query.flow = given(q.flow);
      if (!q.state.empty()) {
        auto state = journey_state_from(q.state);
        if (!state)
          return make_error(errc::invalid_argument,
                            "--state: unknown journey state " + quote(q.state)
                              + " (received, running, waiting, paused, "
                                "completed, failed, cancelled, skipped)");
        query.state = *state;
      }
      query.limit = q.limit;
      return self->state.engine->list_journeys(query);
    },
    [self](journey_show_atom, const std::string& order_id,
           const std::string& flow) -> caf::expected<std::vector<journey_view>> {
      auto& e = *self->state.engine;
      auto records = e.journeys(order_id);
      if (!records)
        return records.error();
      std::vector<journey_view> views;
      for (auto& r : *records) {
        if (!flow.empty() && r.flow != flow)
          continue;
        journey_view view;
        auto timeline = e.timeline(r.order_id, r.flow, r.version);
        if (timeline)
          view.timeline = std::move(*timeline);
        view.record = std::move(r);
        views.push_back(std::move(view));
      }
      if (views.empty())
        return make_error(errc::no_such_journey,
                          "order " + quote(order_id) + " has no journey"
                            + (flow.empty() ? std::string{}
                                            : " on flow " + quote(flow)));
      return views;
    },
    [self](journey_replay_atom, const std::string& order_id,
           const std::string& flow,
           uint32_t against) -> caf::expected<replay_view> {
      auto report = self->state.engine->replay(
        order_id, given(flow),
        against == 0 ? std::nullopt : std::optional<uint32_t>{against});
      if (!report)
        return report.error();
      replay_view view;
      view.recorded = std::move(report->recorded);
      view.replayed = std::move(report->replayed);
      view.version = report->version;
      view.timeline = std::move(report->timeline);
      view.diverges = report->divergence.has_value();
      view.divergence = report->divergence.value_or("");
      return view;
    },
    [self](journey_redrive_atom, const std::string& order_id,
           const std::string& flow) {
      return self->state.engine->redrive(order_id, given(flow));
    },
    // -- providers and the node -----------------------------------------------
    [self](provider_list_atom) {
      auto& s = self->state;
      std::set<std::string> connected;
      for (const auto& kv : s.providers)
        connected.insert(kv.second);
      std::vector<provider_view> result;
      for (const auto& p : s.engine->providers())
        result.push_back({p.id, p.kind,
                          p.kind != "remote" || connected.count(p.id) > 0});
      return result;
    },
    [self](provider_register_atom,
           const std::string& id) -> caf::expected<caf::atom_value> {
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
    [self](node_status_atom) -> caf::expected<node_status> {
      auto& s = self->state;
      node_status status;
      status.listen = s.identity.listen;
      status.data_dir = s.identity.data_dir;
      status.started_on = s.identity.started_on;
      status.now = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
      auto flows = s.engine->list_flows();
      if (!flows)
        return flows.error();
      for (const auto& f : *flows) {
        ++status.flows;
        if (f.status == flow_status::published)
          ++status.published;
        if (f.paused)
          ++status.paused;
      }
      auto counts = s.engine->count_journeys();
      if (!counts)
        return counts.error();
      status.running_journeys = counts->running;
      status.passivated_journeys = counts->passivated;
      auto storage = s.engine->storage();
      status.commits = storage.commits;
      status.writes = storage.ops;
      status.orders_in_flight = storage.orders_in_flight;
      status.map_size = storage.map_size;
      status.max_map_size = storage.max_map_size;
      status.storage_full = storage.full;
      status.clients = s.subscribers.size() + s.providers.size();
      return status;
    },
    [self](listen_atom, const std::string& address) {
      // Only the process that published the node may say where it listens.
      if (!self->current_sender() || self->current_sender()->node() == self->node())
        self->state.identity.listen = address;
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
    [self](journey_update_atom, const journey_record& r) {
      for (const auto& kv : self->state.subscribers)
        if (kv.second.orders.empty() || kv.second.orders.count(r.order_id) > 0)
          self->send(kv.second.handle, journey_update_atom::value, r);
    },
  };
}

} // namespace

caf::actor spawn_node(Engine& engine, node_identity identity) {
  return engine.system().spawn<caf::detached>(node, &engine,
                                              std::move(identity));
}

} // namespace orca
