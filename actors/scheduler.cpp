#include "actors/scheduler.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include <caf/detail/set_thread_name.hpp>
#include <caf/detail/thread_safe_actor_clock.hpp>
#include <caf/logger.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/policy/unprofiled.hpp>
#include <caf/scheduler/coordinator.hpp>

namespace orca {
namespace {

/// CAF's clock, told of an actor's end only if the actor set a timeout.
class quiet_clock final : public caf::detail::thread_safe_actor_clock {
public:
  using super = caf::detail::thread_safe_actor_clock;

  void set_ordinary_timeout(time_point t, caf::abstract_actor* self,
                            caf::atom_value type, uint64_t id) override {
    note(self);
    super::set_ordinary_timeout(t, self, type, id);
  }

  void set_request_timeout(time_point t, caf::abstract_actor* self,
                           caf::message_id id) override {
    note(self);
    super::set_request_timeout(t, self, id);
  }

  void set_multi_timeout(time_point t, caf::abstract_actor* self,
                         caf::atom_value type, uint64_t id) override {
    note(self);
    super::set_multi_timeout(t, self, type, id);
  }

  /// Called by every actor when it ends (local_actor::cleanup).
  void cancel_timeouts(caf::abstract_actor* self) override {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      if (timed_.erase(self) == 0)
        return;
    }
    super::cancel_timeouts(self);
  }

private:
  void note(caf::abstract_actor* self) {
    std::lock_guard<std::mutex> guard{mutex_};
    timed_.insert(self);
  }

  std::mutex mutex_;
  /// Actors that set a timeout and have not ended (an actor's end takes it
  /// out; were one left behind, a later actor at its address would only
  /// cost the clock one needless cancel).
  std::unordered_set<caf::abstract_actor*> timed_;
};

/// Work stealing as CAF's own policy does it (each worker runs its own
/// queue, newest job of its own first, and steals the oldest job of
/// another when it has none), on a queue whose both ends are O(1) (see
/// scheduler.hpp).
class stealing : public caf::policy::unprofiled {
public:
  using job = caf::resumable*;

  struct coordinator_data {
    explicit coordinator_data(caf::scheduler::abstract_coordinator*) {
    }
    std::atomic<std::size_t> next_worker{0};
  };

  struct worker_data {
    explicit worker_data(caf::scheduler::abstract_coordinator*) {
    }
    /// Workers are made from a copy of one worker_data: each gets its own.
    worker_data(const worker_data&) {
    }

    std::mutex mutex;      ///< guards jobs
    std::deque<job> jobs;  ///< the front runs next; thieves take the back
    std::mutex sleep_lock; ///< guards sleeping
    std::condition_variable wake;
    bool sleeping = false;
    /// Whether this worker holds a job it took from a queue (its own or
    /// another's): set under that queue's lock, so that a job is always in
    /// a queue or held (see actors_idle).
    std::atomic<bool> holding{false};
    std::atomic<uint64_t> turns{0}; ///< jobs this worker ran a turn of
  };

  /// The job `self` took is back in a queue, or released: its turn is over.
  template <class Worker>
  static void turn_over(Worker* self) {
    auto& w = d(self);
    // Only this worker writes its count: no locked add.
    w.turns.store(w.turns.load(std::memory_order_relaxed) + 1,
                  std::memory_order_relaxed);
    w.holding.store(false, std::memory_order_release);
  }

  /// Whether, at one moment between the call and its return, no worker
  /// held a job and every queue was empty: no actor had a message to
  /// handle. Two looks at every worker with no turn run between them.
  template <class Coordinator>
  static bool idle(Coordinator* self) {
    auto n = self->num_workers();
    auto look = [&](std::vector<uint64_t>& turns) {
      bool quiet = true;
      turns.clear();
      for (std::size_t i = 0; i < n; ++i) {
        auto& w = self->worker_by_id(i)->data();
        quiet = quiet && !w.holding.load(std::memory_order_acquire);
        turns.push_back(w.turns.load(std::memory_order_acquire));
      }
      for (std::size_t i = 0; i < n; ++i) {
        auto& w = self->worker_by_id(i)->data();
        std::lock_guard<std::mutex> guard{w.mutex};
        quiet = quiet && w.jobs.empty();
      }
      return quiet;
    };
    std::vector<uint64_t> first;
    std::vector<uint64_t> second;
    return look(first) && look(second) && first == second;
  }

  template <class Coordinator>
  void central_enqueue(Coordinator* self, job j) {
    auto n = d(self).next_worker++ % self->num_workers();
    self->worker_by_id(n)->external_enqueue(j);
  }

  /// From another thread: after what is queued.
  template <class Worker>
  void external_enqueue(Worker* self, job j) {
    auto& w = d(self);
    {
      std::lock_guard<std::mutex> guard{w.mutex};
      w.jobs.push_back(j);
    }
    std::lock_guard<std::mutex> guard{w.sleep_lock};
    if (w.sleeping)
      w.wake.notify_one();
  }

  /// From the worker itself: next.
  template <class Worker>
  void internal_enqueue(Worker* self, job j) {
    auto& w = d(self);
    std::lock_guard<std::mutex> guard{w.mutex};
    w.jobs.push_front(j);
  }

  /// A job that gave up the thread goes after everything queued.
  template <class Worker>
  void resume_job_later(Worker* self, job j) {
    auto& w = d(self);
    std::lock_guard<std::mutex> guard{w.mutex};
    w.jobs.push_back(j);
  }

  template <class Worker>
  job dequeue(Worker* self) {
    // Busy first: poll, stealing every few polls; then poll with short
    // sleeps; then sleep until woken or, now and then, to steal.
    struct phase {
      int polls;
      int steal_every;
      std::chrono::microseconds pause;
    };
    static constexpr phase phases[] = {{100, 10, std::chrono::microseconds{0}},
                                       {500, 5, std::chrono::microseconds{50}}};
    for (const auto& p : phases)
      for (int i = 0; i < p.polls; ++i) {
        if (auto j = take(d(self), false, &d(self)))
          return j;
        if (i % p.steal_every == 0)
          if (auto j = steal(self))
            return j;
        if (p.pause.count() > 0)
          std::this_thread::sleep_for(p.pause);
      }
    auto& w = d(self);
    for (;;) {
      {
        std::unique_lock<std::mutex> guard{w.sleep_lock};
        w.sleeping = true;
        w.wake.wait_for(guard, std::chrono::milliseconds{10},
                        [&] { return has_jobs(w); });
        w.sleeping = false;
      }
      if (auto j = take(w, false, &w))
        return j;
      if (auto j = steal(self))
        return j;
    }
  }

  template <class Worker, class F>
  void foreach_resumable(Worker* self, F f) {
    while (auto j = take(d(self), false, nullptr))
      f(j);
  }

  template <class Coordinator, class F>
  void foreach_central_resumable(Coordinator*, F) {
    // Every job is in some worker's queue.
  }

private:
  /// Takes a job from `w`'s queue for `taker` (none: at shutdown).
  static job take(worker_data& w, bool oldest, worker_data* taker) {
    std::lock_guard<std::mutex> guard{w.mutex};
    if (w.jobs.empty())
      return nullptr;
    if (taker != nullptr)
      taker->holding.store(true, std::memory_order_relaxed);
    job j;
    if (oldest) {
      j = w.jobs.back();
      w.jobs.pop_back();
    } else {
      j = w.jobs.front();
      w.jobs.pop_front();
    }
    return j;
  }

  static bool has_jobs(worker_data& w) {
    std::lock_guard<std::mutex> guard{w.mutex};
    return !w.jobs.empty();
  }

  template <class Worker>
  job steal(Worker* self) {
    auto* parent = self->parent();
    auto n = parent->num_workers();
    if (n < 2)
      return nullptr;
    // Start at a different worker each time, so no queue is raided first.
    auto first = (self->id() + 1 + steal_turn_++ % (n - 1)) % n;
    for (std::size_t k = 0; k < n; ++k) {
      auto victim = (first + k) % n;
      if (victim == self->id())
        continue;
      if (auto j = take(d(parent->worker_by_id(victim)), true, &d(self)))
        return j;
    }
    return nullptr;
  }

  std::size_t steal_turn_ = 0; ///< one policy object per worker
};

} // namespace
} // namespace orca

namespace caf::scheduler {

/// CAF's worker loop for Orca's policy, less CAF's logging bookkeeping.
/// Orca's CAF logs nothing (CAF_LOG_LEVEL_QUIET), yet CAF's own loop
/// casts each job across its class hierarchy (a dynamic_cast of about
/// 1,500 instructions) and, while the thread has a logger, takes and
/// gives back a lock that all workers share, to note which actor the
/// thread runs. Here the thread has no logger: CAF sets one again at each
/// spawn, so it is let go before each job.
template <>
void worker<orca::stealing>::run() {
  for (;;) {
    if (logger::current_logger() != nullptr)
      logger::set_current_actor_system(nullptr);
    auto job = policy_.dequeue(this);
    policy_.before_resume(this, job);
    auto res = job->resume(this, max_throughput_);
    policy_.after_resume(this, job);
    switch (res) {
      case resumable::resume_later:
        policy_.resume_job_later(this, job); // it stays in the loop
        break;
      case resumable::done:
        policy_.after_completion(this, job);
        intrusive_ptr_release(job);
        break;
      case resumable::awaiting_message:
        intrusive_ptr_release(job); // enqueued again by its next message
        break;
      case resumable::shutdown_execution_unit:
        policy_.after_completion(this, job);
        policy_.before_shutdown(this);
        return;
    }
    orca::stealing::turn_over(this);
  }
}

} // namespace caf::scheduler

namespace orca {
namespace {

/// CAF's coordinator with a quiet_clock. The base keeps its own clock and
/// thread, which nothing is scheduled on.
template <class Policy>
class coordinator final : public caf::scheduler::coordinator<Policy> {
public:
  using super = caf::scheduler::coordinator<Policy>;

  explicit coordinator(caf::actor_system& sys) : super(sys) {
  }

  static caf::actor_system::module* make(caf::actor_system& sys,
                                         caf::detail::type_list<>) {
    return new coordinator(sys);
  }

  caf::detail::thread_safe_actor_clock& clock() noexcept override {
    return clock_;
  }

protected:
  void start() override {
    timer_ = std::thread{[this] {
      caf::detail::set_thread_name("orca.timeouts");
      clock_.run_dispatch_loop();
    }};
    super::start();
  }

  void stop() override {
    super::stop();
    clock_.cancel_dispatch_loop();
    timer_.join();
  }

private:
  quiet_clock clock_;
  std::thread timer_;
};

} // namespace

bool actors_idle(caf::actor_system& sys) {
  auto* stealing_coordinator =
    dynamic_cast<coordinator<stealing>*>(&sys.scheduler());
  if (stealing_coordinator == nullptr)
    return true; // work sharing: CAF's queue cannot be looked into
  return stealing::idle(stealing_coordinator);
}

void load_scheduler(caf::actor_system_config& cfg, bool sharing) {
  if (sharing)
    cfg.load<coordinator<caf::policy::work_sharing>>();
  else
    cfg.load<coordinator<stealing>>();
}

} // namespace orca
