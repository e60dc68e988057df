// Retention: the journals of ended journeys go once their retention is
// over, a batch at a time, on the engine's clock.

#include "engine/engine_impl.hpp"

#include <future>

namespace orca {

caf::expected<std::size_t> Engine::expire_journals() {
  return impl_->expire_journals();
}

caf::expected<std::size_t> Engine::impl::expire_journals() {
  if (options.journal_retention_ms <= 0)
    return std::size_t{0};
  std::size_t total = 0;
  for (;;) {
    std::promise<caf::expected<std::size_t>> done;
    journeys->expire_journals(
      now() - options.journal_retention_ms, 10000,
      [&done](caf::expected<std::size_t> n) { done.set_value(std::move(n)); });
    auto n = done.get_future().get();
    if (!n)
      return n.error();
    total += *n;
    if (*n == 0)
      return total;
  }
}

void Engine::impl::start_sweeper() {
  constexpr uint32_t hour_ms = 3600 * 1000;
  // The engine comes as an argument, not a capture: CAF 0.17 dereferences
  // a null pointer to the arguments of a function actor that has none.
  sweeper = system->spawn(
    [](caf::event_based_actor* me, impl* self) -> caf::behavior {
      self->services->time->schedule(0, caf::actor_cast<caf::actor>(me), 0);
      return {
        [self, me](timer_atom, uint64_t) {
          constexpr std::size_t batch = 10000;
          auto handle = caf::actor_cast<caf::actor>(me);
          self->journeys->expire_journals(
            self->now() - self->options.journal_retention_ms, batch,
            [self, handle](caf::expected<std::size_t> n) {
              if (!n)
                self->warn("cannot expire journals: " + describe(n.error()));
              // A full batch: there may be more; go on at once.
              self->services->time->schedule(n && *n == batch ? 0 : hour_ms,
                                             handle, 0);
            });
        },
      };
    },
    this);
}

} // namespace orca
