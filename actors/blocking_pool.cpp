#include "actors/blocking_pool.hpp"

#include <caf/all.hpp>

namespace orca {

blocking_pool::blocking_pool(std::size_t threads) {
  threads_.reserve(threads == 0 ? 1 : threads);
  for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i)
    threads_.emplace_back([this] { run(); });
}

blocking_pool::~blocking_pool() {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    stopping_ = true;
    tasks_.clear();
  }
  ready_.notify_all();
  for (auto& t : threads_)
    t.join();
}

void blocking_pool::post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (stopping_)
      return;
    tasks_.push_back(std::move(task));
  }
  ready_.notify_one();
}

void blocking_pool::run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock{mutex_};
      ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (stopping_)
        return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

namespace {

/// To the adapter from a pool thread: (replied_atom, token, reply), the
/// answer to the call `token`.
using replied_atom = caf::atom_constant<caf::atom("bpreplied")>;

struct blocking_provider_state {
  std::shared_ptr<blocking_function> fn;
  std::unique_ptr<blocking_pool> pool;
  pending_answers pending;

  static inline const char* name = "orca.blocking_provider";
};

using blocking_provider_actor = caf::stateful_actor<blocking_provider_state>;

provider_reply call(const blocking_function& fn, const provider_request& req,
                    const limits& lim) {
  try {
    return checked(fn(req), lim);
  } catch (const std::exception& e) {
    return provider_reply::failure(std::string{"the provider threw: "}
                                   + e.what());
  } catch (...) {
    return provider_reply::failure("the provider threw an exception");
  }
}

caf::behavior blocking_provider(blocking_provider_actor* self,
                                std::shared_ptr<blocking_function> fn,
                                std::size_t threads, limits lim) {
  self->state.fn = std::move(fn);
  self->state.pool = std::make_unique<blocking_pool>(threads);
  // The threads end with the actor's state (calls still running are
  // waited for).
  return {
    [self, lim](provider_request& req) -> caf::result<provider_reply> {
      auto& st = self->state;
      answer_from_pool<replied_atom>(self, st.pending, *st.pool,
                                     [fn = st.fn, req = std::move(req), lim] {
                                       return call(*fn, req, lim);
                                     });
      return caf::delegated<provider_reply>{};
    },
    [self](replied_atom, uint64_t token, provider_reply& reply) {
      self->state.pending.deliver(token, std::move(reply));
    },
  };
}

} // namespace

caf::actor spawn_blocking_provider(caf::actor_system& system,
                                   blocking_function fn, std::size_t threads,
                                   const limits& lim) {
  return system.spawn(blocking_provider,
                      std::make_shared<blocking_function>(std::move(fn)),
                      threads, lim);
}

} // namespace orca
