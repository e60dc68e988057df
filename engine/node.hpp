#pragma once

// The node actor: the remote face of an Engine, serving the protocol of
// engine/node_protocol.hpp to remote actor clients. orcad publishes it with
// CAF's middleman. Engine calls that may block run on a thread of the
// node's own, one after the other; submissions and events go through the
// engine's asynchronous calls and are answered when they are committed.
//
// To stop, the process that runs the node sends it drain_atom (from an
// actor): the node refuses new requests ("the node is stopping"), answers
// every request it took, answers the drain and ends.

#include <string>

#include <caf/actor.hpp>

#include "engine/engine.hpp"

namespace orca {

struct node_identity {
  std::string listen; ///< HOST:PORT it is published on
  std::string data_dir;
  int64_t started_on = 0;
};

/// REQUIRES: `engine` outlives the actor; the engine's actor system has the
/// node types registered (register_node_types).
caf::actor spawn_node(Engine& engine, node_identity identity);

} // namespace orca
