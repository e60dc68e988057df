#pragma once

// The `remote` provider kind: a remote actor client that connected to the
// node and registered under a provider id. The adapter forwards each call to
// that client as a wire_provider_request (the order as JSON) and turns its
// wire_provider_reply back into a provider_reply. While no client is
// connected, or when the client goes away, calls fail (and are retried by
// the action's policy); a client that registers again takes over.
//
// Protocol of the adapter:
//   provider_request -> provider_reply           a call from a path
//   (connect_atom, caf::actor client)            a client registered
// and of a remote provider client:
//   (provider_call_atom, wire_provider_request) -> wire_provider_reply

#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>

#include "flows/limits.hpp"

namespace orca {

using connect_atom = caf::atom_constant<caf::atom("connect")>;
using provider_call_atom = caf::atom_constant<caf::atom("pcall")>;

/// Answers are checked under `lim` (see from_wire).
caf::actor spawn_remote_provider(caf::actor_system& system, std::string id,
                                 const limits& lim = default_limits());

} // namespace orca
