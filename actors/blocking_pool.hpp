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
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/response_promise.hpp>
#include <caf/send.hpp>
#include <caf/actor_control_block.hpp>

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

/// The requests an actor answers later, each by a token: keep() takes the
/// promise of the request being handled, deliver() answers it once. Tokens
/// are random, so that nothing from outside can answer a request by
/// guessing one. Used on the actor's own thread only.
class pending_answers {
public:
  uint64_t keep(caf::response_promise promise) {
    uint64_t token;
    do
      token = tokens_();
    while (pending_.count(token) > 0);
    pending_.emplace(token, std::move(promise));
    return token;
  }

  /// Answers the request of `token` with `xs` (a value, a message or an
  /// error); false if there is none (answered already, or never kept).
  template <class... Ts>
  bool deliver(uint64_t token, Ts&&... xs) {
    auto it = pending_.find(token);
    if (it == pending_.end())
      return false;
    it->second.deliver(std::forward<Ts>(xs)...);
    pending_.erase(it);
    return true;
  }

  bool empty() const {
    return pending_.empty();
  }

private:
  std::unordered_map<uint64_t, caf::response_promise> pending_;
  std::mt19937_64 tokens_{std::random_device{}()};
};

/// Answers the request `self` is handling with what `work` returns, run on
/// `pool`: the result comes back to `self` as (Atom, token, result), whose
/// handler passes it to `pending.deliver`.
template <class Atom, class Self, class Work>
void answer_from_pool(Self* self, pending_answers& pending, blocking_pool& pool,
                      Work work) {
  auto token = pending.keep(self->make_response_promise());
  caf::weak_actor_ptr me{self->ctrl()};
  pool.post([me, token, work = std::move(work)]() mutable {
    auto result = work();
    if (auto strong = me.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(strong), Atom::value, token,
                     std::move(result));
  });
}

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
