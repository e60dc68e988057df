#include "actors/clock.hpp"

#include <algorithm>

#include <thread>
#include <unordered_map>
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
  system_clock() : thread_([this] { run(); }) {
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
    auto due =
      std::chrono::steady_clock::now() + std::chrono::milliseconds{delay_ms};
    bool earliest = false;
    uint64_t id = 0;
    {
      std::lock_guard<std::mutex> guard{mutex_};
      id = ++last_id_;
      auto at = timers_.emplace(
        key{due, id},
        entry{caf::actor_cast<caf::weak_actor_ptr>(target), token});
      due_of_[id] = due;
      earliest = at.first == timers_.begin();
    }
    if (earliest)
      changed_.notify_one();
    return id;
  }

  void cancel(uint64_t id) override {
    if (id == 0)
      return;
    std::lock_guard<std::mutex> guard{mutex_};
    auto it = due_of_.find(id);
    if (it == due_of_.end())
      return;
    timers_.erase(key{it->second, id});
    due_of_.erase(it);
  }

private:
  using time_point = std::chrono::steady_clock::time_point;
  using key = std::pair<time_point, uint64_t>;

  struct entry {
    caf::weak_actor_ptr target;
    uint64_t token;
  };

  void run() {
    std::vector<entry> due;
    std::unique_lock<std::mutex> guard{mutex_};
    while (!stopping_) {
      if (timers_.empty()) {
        changed_.wait(guard);
        continue;
      }
      auto now = std::chrono::steady_clock::now();
      if (now < timers_.begin()->first.first) {
        changed_.wait_until(guard, timers_.begin()->first.first);
        continue;
      }
      while (!timers_.empty() && timers_.begin()->first.first <= now) {
        due_of_.erase(timers_.begin()->first.second);
        due.push_back(std::move(timers_.begin()->second));
        timers_.erase(timers_.begin());
      }
      guard.unlock();
      for (const auto& e : due)
        fire(e.target, e.token);
      due.clear();
      guard.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  uint64_t last_id_ = 0;
  std::map<key, entry> timers_;
  std::unordered_map<uint64_t, time_point> due_of_;
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
