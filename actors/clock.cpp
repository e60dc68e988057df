#include "actors/clock.hpp"

#include <algorithm>
#include <limits>

#include <thread>
#include <tuple>
#include <vector>

#include <caf/send.hpp>

namespace orca {

clock::~clock() = default;

namespace {

/// Sends a timer that fell due to its target, if the target still lives.
void fire(const caf::weak_actor_ptr& target, uint64_t token) {
  if (auto strong = target.lock())
    caf::anon_send(caf::actor_cast<caf::actor>(std::move(strong)),
                   timer_atom::value, token);
}

class system_clock final : public clock {
public:
  system_clock()
      : epoch_(std::chrono::steady_clock::now()), thread_([this] { run(); }) {
  }

  ~system_clock() override {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  int64_t now_ms() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
  }

  uint64_t schedule(uint32_t delay_ms, const caf::actor& target,
                    uint64_t token) override {
    if (delay_ms == 0) {
      caf::anon_send(target, timer_atom::value, token);
      return 0;
    }
    // Never early: from the next whole millisecond.
    auto due = ticks() + 1 + delay_ms;
    bool earliest = false;
    uint64_t id = 0;
    {
      std::lock_guard<std::mutex> guard{mutex_};
      auto at = timers_.end();
      bool added = false;
      while (!added) { // a count that wrapped onto a live timer is skipped
        id = (due << sequence_bits) | (++sequence_ & sequence_mask);
        std::tie(at, added) = timers_.emplace(
          id, entry{caf::actor_cast<caf::weak_actor_ptr>(target), token});
      }
      // The thread is woken only if it sleeps past this timer. Timers of
      // calls answered at once are cancelled before anything is due: it
      // then sleeps on to an older deadline, wakes to find nothing, and
      // sleeps until the next.
      earliest = due < sleeping_until_;
      if (earliest)
        sleeping_until_ = due;
    }
    if (earliest)
      changed_.notify_one();
    return id;
  }

  void cancel(uint64_t id) override {
    if (id == 0)
      return;
    std::lock_guard<std::mutex> guard{mutex_};
    timers_.erase(id);
  }

private:
  /// A timer's id is its key: when it is due (ms since the clock began)
  /// above a count that tells apart timers due the same millisecond, so
  /// that ids sort by due time and a cancel needs no other index.
  static constexpr int sequence_bits = 24;
  static constexpr uint64_t sequence_mask = (uint64_t{1} << sequence_bits) - 1;

  struct entry {
    caf::weak_actor_ptr target;
    uint64_t token;
  };

  /// Milliseconds since the clock began, on the steady clock.
  uint64_t ticks() const {
    return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - epoch_)
        .count());
  }

  /// When timer `id` is due, in ticks.
  static uint64_t due_of(uint64_t id) {
    return id >> sequence_bits;
  }

  std::chrono::steady_clock::time_point due_time(uint64_t id) const {
    return epoch_ + std::chrono::milliseconds{due_of(id)};
  }

  void run() {
    std::vector<entry> due;
    std::unique_lock<std::mutex> guard{mutex_};
    while (!stopping_) {
      auto now = ticks();
      while (!timers_.empty() && due_of(timers_.begin()->first) <= now) {
        due.push_back(std::move(timers_.begin()->second));
        timers_.erase(timers_.begin());
      }
      if (!due.empty()) {
        guard.unlock();
        for (const auto& e : due)
          fire(e.target, e.token);
        due.clear();
        guard.lock();
        continue;
      }
      if (timers_.empty()) {
        sleeping_until_ = std::numeric_limits<uint64_t>::max();
        changed_.wait(guard);
      } else {
        sleeping_until_ = due_of(timers_.begin()->first);
        changed_.wait_until(guard, due_time(timers_.begin()->first));
      }
      sleeping_until_ = 0;
    }
  }

  const std::chrono::steady_clock::time_point epoch_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  uint64_t sequence_ = 0;
  /// What the thread waits for (in ticks): the max while no timer is set,
  /// 0 while it is awake (it looks at the timers before it sleeps again).
  uint64_t sleeping_until_ = 0;
  std::map<uint64_t, entry> timers_;
  std::thread thread_;
};

} // namespace

std::shared_ptr<clock> make_system_clock() {
  return std::make_shared<system_clock>();
}

manual_clock::manual_clock(int64_t start_ms) : now_(start_ms) {
}

int64_t manual_clock::now_ms() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return now_;
}

uint64_t manual_clock::schedule(uint32_t delay_ms, const caf::actor& target,
                                uint64_t token) {
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    id = ++sequence_;
    timers_.emplace(std::make_pair(now_ + delay_ms, id),
                    entry{caf::actor_cast<caf::weak_actor_ptr>(target), token});
  }
  scheduled_.notify_all();
  return id;
}

void manual_clock::deliver_due(std::unique_lock<std::mutex>& guard) {
  std::vector<entry> due;
  while (!timers_.empty() && timers_.begin()->first.first <= now_) {
    due.push_back(std::move(timers_.begin()->second));
    timers_.erase(timers_.begin());
  }
  guard.unlock();
  for (const auto& e : due)
    fire(e.target, e.token);
  guard.lock();
}

void manual_clock::advance(uint32_t ms) {
  std::unique_lock<std::mutex> guard{mutex_};
  now_ += ms;
  deliver_due(guard);
}

bool manual_clock::fire_next() {
  std::unique_lock<std::mutex> guard{mutex_};
  if (timers_.empty())
    return false;
  now_ = std::max(now_, timers_.begin()->first.first);
  deliver_due(guard);
  return true;
}

std::size_t manual_clock::pending() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return timers_.size();
}

bool manual_clock::wait_for_pending(std::size_t n,
                                    std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> guard{mutex_};
  return scheduled_.wait_for(guard, limit, [&] { return timers_.size() >= n; });
}

void flow_clock::set(flow_pauses pauses) {
  std::lock_guard<std::mutex> guard{mutex_};
  pauses_ = pauses;
}

int64_t flow_clock::at(int64_t wall) const {
  std::lock_guard<std::mutex> guard{mutex_};
  return pauses_.at(wall);
}

std::optional<int64_t> flow_clock::until(int64_t t, int64_t wall) const {
  std::lock_guard<std::mutex> guard{mutex_};
  return pauses_.until(t, wall);
}

} // namespace orca
