#include "actors/embedded_provider.hpp"

#include "actors/blocking_pool.hpp"

namespace orca {

caf::actor spawn_embedded_provider(caf::actor_system& system,
                                   embedded_function fn, uint32_t workers,
                                   const limits& lim) {
  return spawn_blocking_provider(system, std::move(fn),
                                 workers == 0 ? 1 : workers, lim);
}

} // namespace orca
