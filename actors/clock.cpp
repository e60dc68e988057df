#include "actors/clock.hpp"

#include <vector>

#include <caf/send.hpp>

namespace orca {

clock::~clock() = default;

namespace {

class system_clock final : public clock {
public:
  int64_t now_ms() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
  }

  void schedule(uint32_t delay_ms, const caf::actor& target,
                uint64_t token) override {
    if (delay_ms == 0)
      caf::anon_send(target, timer_atom::value, token);
    else
      caf::delayed_anon_send(target, std::chrono::milliseconds{delay_ms},
                             timer_atom::value, token);
  }
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

void manual_clock::schedule(uint32_t delay_ms, const caf::actor& target,
                            uint64_t token) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    timers_.emplace(std::make_pair(now_ + delay_ms, sequence_++),
                    entry{target, token});
  }
  scheduled_.notify_all();
}

void manual_clock::deliver_due(std::unique_lock<std::mutex>& guard) {
  std::vector<entry> due;
  while (!timers_.empty() && timers_.begin()->first.first <= now_) {
    due.push_back(std::move(timers_.begin()->second));
    timers_.erase(timers_.begin());
  }
  guard.unlock();
  for (auto& e : due)
    caf::anon_send(e.target, timer_atom::value, e.token);
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

} // namespace orca
