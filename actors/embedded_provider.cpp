#include "actors/embedded_provider.hpp"

#include <caf/all.hpp>

namespace orca {

namespace {

caf::behavior embedded_worker(caf::event_based_actor*,
                              std::shared_ptr<embedded_function> fn) {
  return {
    [fn](const provider_request& request) {
      try {
        return checked((*fn)(request));
      } catch (const std::exception& e) {
        return provider_reply::failure(std::string{"the provider threw: "}
                                       + e.what());
      } catch (...) {
        return provider_reply::failure("the provider threw an exception");
      }
    },
  };
}

} // namespace

caf::actor spawn_embedded_provider(caf::actor_system& system,
                                   embedded_function fn, uint32_t workers) {
  auto shared = std::make_shared<embedded_function>(std::move(fn));
  auto factory = [&system, shared] {
    return system.spawn<caf::detached>(embedded_worker, shared);
  };
  return caf::actor_pool::make(system.dummy_execution_unit(),
                               workers == 0 ? 1 : workers, factory,
                               caf::actor_pool::round_robin());
}

} // namespace orca
