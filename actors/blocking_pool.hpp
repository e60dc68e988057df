#pragma once

// Threads of Orca's own for work that blocks: a user's provider function, an
// HTTP call, a request of the node that waits for the store. Such work never
// runs on CAF's scheduler threads, where it would stall actors.
//
// This takes the place of CAF's detached actors: in CAF 0.17 a detached
// actor's thread can hold the last reference to its actor, so that the
// actor system's destructor waits for it for ever (CAF issues 1110 and
// 1196, fixed only in 0.18). Actors here stay ordinary scheduled actors and
// hand the blocking part to a pool, which answers with a message.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/provider_protocol.hpp"

namespace orca {

class blocking_pool {
public:
  /// Starts `threads` threads (at least one).
  explicit blocking_pool(std::size_t threads);

  /// Drops the tasks not started yet and waits for the running ones.
  ~blocking_pool();

  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;

  /// Runs `task` on one of the threads, in the order posted (with one
  /// thread, one after the other).
  void post(std::function<void()> task);

private:
  void run();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

using blocking_function =
  std::function<provider_reply(const provider_request&)>;

/// A provider adapter that calls `fn` for each provider_request on `threads`
/// threads of its own and answers with its provider_reply, checked under
/// `lim` (see `checked`). `fn` may block and may throw: an exception is a
/// failed attempt. Requests beyond the threads wait in order.
caf::actor spawn_blocking_provider(caf::actor_system& system,
                                   blocking_function fn, std::size_t threads,
                                   const limits& lim = default_limits());

} // namespace orca
