#pragma once

// The `embedded` provider kind: a C++ callable registered through
// orca::Engine. It is called on threads of its own (a blocking_pool),
// so it may block; an exception it throws is a failed attempt.

#include <functional>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/provider_protocol.hpp"

namespace orca {

using embedded_function =
  std::function<provider_reply(const provider_request&)>;

caf::actor spawn_embedded_provider(caf::actor_system& system,
                                   embedded_function fn, uint32_t workers,
                                   const limits& lim = default_limits());

} // namespace orca
