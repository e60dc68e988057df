#pragma once

// The conversation between a node (orcad) and its remote actor clients
// (orcactl, services that embed the client library, remote providers). The
// node publishes one actor; every request below goes to it and is answered
// with the type shown, or with a caf::error (category "orca", a message that
// names the file, field or step path).
//
//   (flow_create_atom, json, origin)            -> flow_record
//   (flow_update_atom, json, origin)            -> flow_record
//   (flow_publish_atom, name)                   -> uint32_t version
//   (flow_stop_atom, name, bool cancel)         -> flow_record
//   (flow_pause_atom, name) / (flow_resume_atom, name) -> flow_record
//   (flow_list_atom)                            -> std::vector<flow_record>
//   (flow_show_atom, name, uint32_t version)    -> flow_detail (0: latest)
//   (order_submit_atom, std::vector<std::string>) -> std::vector<submit_outcome>
//   (order_event_atom, order_id, type)          -> ok_atom
//   (journey_list_atom, wire_query)             -> std::vector<journey_record>
//   (journey_show_atom, order_id, flow)         -> std::vector<journey_view>
//   (journey_replay_atom, order_id, flow, uint32_t against) -> replay_view
//   (journey_redrive_atom, order_id, flow)      -> journey_record
//   (provider_list_atom)                        -> std::vector<provider_view>
//   (node_status_atom)                          -> node_status
//   (hook_list_atom)                            -> std::vector<hook_status>
//   (policy_put_atom, json, origin)             -> std::vector<library_policy>
//   (policy_list_atom)                          -> std::vector<library_policy>
//   (policy_show_atom, name)                    -> library_policy
//   (policy_delete_atom, name)                  -> library_policy (deleted)
//   (subscribe_atom, std::vector<std::string> order_ids)  -> ok_atom
//       then (journey_update_atom, journey_record) -> ok_atom to the
//       subscriber for every durable change of a journey of those orders
//       (all if empty); past 1,024 updates it has not acknowledged, the
//       node drops its updates instead of buffering them
//   (provider_register_atom, id)                -> ok_atom
//       from a remote provider client; the node then sends it
//       (provider_call_atom, wire_provider_request) -> wire_provider_reply
//
// A flow name or order id "" means "not given" where it is optional.

#include <set>
#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>

#include "actors/remote_provider.hpp"
#include "actors/wire.hpp"
#include "engine/timeline.hpp"

namespace orca {

using flow_create_atom = caf::atom_constant<caf::atom("fcreate")>;
using flow_update_atom = caf::atom_constant<caf::atom("fupdate")>;
using flow_publish_atom = caf::atom_constant<caf::atom("fpublish")>;
using flow_stop_atom = caf::atom_constant<caf::atom("fstop")>;
using flow_pause_atom = caf::atom_constant<caf::atom("fpause")>;
using flow_resume_atom = caf::atom_constant<caf::atom("fresume")>;
using flow_list_atom = caf::atom_constant<caf::atom("flist")>;
using flow_show_atom = caf::atom_constant<caf::atom("fshow")>;
using order_submit_atom = caf::atom_constant<caf::atom("osubmit")>;
using order_event_atom = caf::atom_constant<caf::atom("oevent")>;
using journey_list_atom = caf::atom_constant<caf::atom("jlist")>;
using journey_show_atom = caf::atom_constant<caf::atom("jshow")>;
using journey_replay_atom = caf::atom_constant<caf::atom("jreplay")>;
using journey_redrive_atom = caf::atom_constant<caf::atom("jredrive")>;
using provider_list_atom = caf::atom_constant<caf::atom("plist")>;
using provider_register_atom = caf::atom_constant<caf::atom("pregister")>;
using node_status_atom = caf::atom_constant<caf::atom("nstatus")>;
using hook_list_atom = caf::atom_constant<caf::atom("hlist")>;
using policy_put_atom = caf::atom_constant<caf::atom("polput")>;
using policy_list_atom = caf::atom_constant<caf::atom("pollist")>;
using policy_show_atom = caf::atom_constant<caf::atom("polshow")>;
using policy_delete_atom = caf::atom_constant<caf::atom("poldelete")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using journey_update_atom = caf::atom_constant<caf::atom("jupdate")>;
/// From the process that published the node: the address it listens on.
using listen_atom = caf::atom_constant<caf::atom("listen")>;
/// (drain_atom) -> ok_atom, from the node's own process only: refuse new
/// requests, answer every pending one, then end.
using drain_atom = caf::atom_constant<caf::atom("drain")>;

/// A flow as `flow show` presents it: its record, one version's text and
/// the versions there are.
struct flow_detail {
  flow_record record;
  uint32_t version = 0;   ///< the version shown; 0: the draft
  std::string definition; ///< its JSON text, as written
  /// For a draft: `definition` with a copy of each library policy it uses,
  /// as publish would freeze it; "" for a frozen version or when the draft
  /// does not fit the library (a clash), which parsing `definition` reports.
  std::string resolved;
  std::vector<uint32_t> versions;
  /// For each of `versions`, its journeys held by a pause (state paused).
  std::vector<uint64_t> held;
};

/// One order's result of a submission (SPEC §6: accepted | duplicate |
/// rejected, and the error naming the field).
struct submit_outcome {
  std::string order_id;
  std::string status;
  std::string error;
};

struct wire_query {
  std::string flow;  ///< "": any
  std::string state; ///< "": any
  uint64_t limit = 0;
};

/// A journey with its journal as a timeline.
struct journey_view {
  journey_record record;
  std::vector<timeline_entry> timeline;
};

struct replay_view {
  journey_record recorded;
  journey_record replayed;
  uint32_t version = 0;
  std::vector<timeline_entry> timeline;
  bool diverges = false;
  std::string divergence;
};

struct provider_view {
  std::string id;
  std::string kind;
  bool connected = true; ///< for remote providers: a client is registered
};

/// What GET /v1/hooks and `orcactl hook list` show of a hook (SPEC §9).
struct hook_status {
  std::string name;
  std::string url;
  uint64_t backlog = 0;   ///< deliveries waiting to be sent
  uint64_t delivered = 0; ///< since the node started
  uint64_t failed_attempts = 0;
  std::string last_error; ///< of the last failed attempt, "" if none
};

struct node_status {
  std::string listen;
  std::string data_dir;
  int64_t started_on = 0;
  int64_t now = 0;
  uint64_t flows = 0;
  uint64_t published = 0;
  uint64_t paused = 0;
  uint64_t running_journeys = 0;
  uint64_t passivated_journeys = 0;
  uint64_t commits = 0;
  uint64_t writes = 0;
  uint64_t clients = 0; ///< subscribers and remote providers connected
  uint64_t orders_in_flight = 0;
  uint64_t map_size = 0;     ///< the store's LMDB map now
  uint64_t max_map_size = 0; ///< the most it may grow to (--map-size)
  bool storage_full = false; ///< the store is full at its maximum size
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, flow_detail& x) {
  return f(caf::meta::type_name("orca::flow_detail"), x.record, x.version,
           x.definition, x.resolved, x.versions, x.held);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, library_policy& x) {
  return f(caf::meta::type_name("orca::library_policy"), x.name, x.execution,
           x.json, x.updated_on, x.damaged);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, submit_outcome& x) {
  return f(caf::meta::type_name("orca::submit_outcome"), x.order_id, x.status,
           x.error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_query& x) {
  return f(caf::meta::type_name("orca::wire_query"), x.flow, x.state, x.limit);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, timeline_entry& x) {
  return f(caf::meta::type_name("orca::timeline_entry"), x.at, x.kind, x.step,
           x.path, x.attempt, x.detail);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, journey_view& x) {
  return f(caf::meta::type_name("orca::journey_view"), x.record, x.timeline);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replay_view& x) {
  return f(caf::meta::type_name("orca::replay_view"), x.recorded, x.replayed,
           x.version, x.timeline, x.diverges, x.divergence);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, provider_view& x) {
  return f(caf::meta::type_name("orca::provider_view"), x.id, x.kind,
           x.connected);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hook_status& x) {
  return f(caf::meta::type_name("orca::hook_status"), x.name, x.url, x.backlog,
           x.delivered, x.failed_attempts, x.last_error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_status& x) {
  return f(caf::meta::type_name("orca::node_status"), x.listen, x.data_dir,
           x.started_on, x.now, x.flows, x.published, x.paused,
           x.running_journeys, x.passivated_journeys, x.commits, x.writes,
           x.clients, x.orders_in_flight, x.map_size, x.max_map_size,
           x.storage_full);
}

/// Registers every type of the node protocol (and of actors/wire.hpp) with
/// `cfg`. Both the node and its clients call it, through speak_node_protocol
/// when they go on the wire.
void register_node_types(caf::actor_system_config& cfg);

/// Prepares `cfg` for the wire, as the node and its clients both do: loads
/// CAF's middleman, registers the node types, and has the middleman read
/// incoming messages on its own thread (middleman.workers = 0). CAF 0.17's
/// pool of workers for that loses now and then the answer to a request
/// that arrives on a new connection while the pool is busy: on two cores,
/// about one request in a hundred from many orcactl processes at once
/// waited for an answer the node had given (tools/wire_stress.sh).
void speak_node_protocol(caf::actor_system_config& cfg);

/// The names register_node_types gives the node's message types: with
/// CAF's flat types, what a client's message may hold (wire_rules).
std::set<std::string> node_type_names();

} // namespace orca
