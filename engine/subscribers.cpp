#include "engine/subscribers.hpp"

#include <condition_variable>
#include <deque>
#include <optional>
#include <thread>

#include <pthread.h>

#include "flows/json.hpp"

namespace orca {

namespace {

/// What a subscription's thread makes a record of.
struct update {
  std::shared_ptr<const journey_snapshot> snapshot;
  flow_ptr model;
};

} // namespace

struct subscriber_hub::channel {
  uint64_t id = 0;
  subscriber fn;
  bool terminal_only = false;

  std::mutex mutex;
  std::condition_variable wake;
  std::condition_variable idle;
  std::deque<update> queue;
  bool delivering = false;
  bool stopping = false;
  uint64_t dropped = 0;
  uint64_t unreported = 0; ///< dropped since the last warning
  std::thread thread;

  void run(const warn_fn& warn) {
    pthread_setname_np(pthread_self(), "orca.subscriber");
    std::unique_lock<std::mutex> guard{mutex};
    for (;;) {
      wake.wait(guard, [&] { return stopping || !queue.empty(); });
      if (stopping)
        return;
      auto next = std::move(queue.front());
      queue.pop_front();
      auto missed = unreported;
      unreported = 0;
      delivering = true;
      guard.unlock();
      if (missed > 0 && warn)
        warn("subscriber " + std::to_string(id) + " fell behind: "
             + std::to_string(missed) + " journey updates were dropped");
      std::optional<journey_record> record;
      try {
        record = make_record(*next.snapshot, *next.model);
      } catch (const std::exception& e) {
        if (warn)
          warn("the record of the journey of order "
               + quote(next.snapshot->order_id) + " on flow "
               + quote(next.snapshot->flow)
               + " could not be made: " + e.what());
      }
      try {
        if (record)
          fn(*record);
      } catch (const std::exception& e) {
        if (warn)
          warn("subscriber " + std::to_string(id) + " threw: " + e.what());
      } catch (...) {
        if (warn)
          warn("subscriber " + std::to_string(id) + " threw an exception");
      }
      guard.lock();
      delivering = false;
      if (queue.empty())
        idle.notify_all();
    }
  }
};

subscriber_hub::subscriber_hub(warn_fn warn, std::size_t queue_limit)
    : warn_(std::move(warn)), queue_limit_(queue_limit) {
}

subscriber_hub::~subscriber_hub() {
  std::map<uint64_t, std::shared_ptr<channel>> all;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    all.swap(channels_);
  }
  for (auto& [id, ch] : all) {
    {
      std::lock_guard<std::mutex> guard{ch->mutex};
      ch->stopping = true;
    }
    ch->wake.notify_all();
    if (ch->thread.get_id() == std::this_thread::get_id())
      ch->thread.detach();
    else
      ch->thread.join();
  }
}

uint64_t subscriber_hub::add(subscriber fn, bool terminal_only) {
  auto ch = std::make_shared<channel>();
  ch->fn = std::move(fn);
  ch->terminal_only = terminal_only;
  std::lock_guard<std::mutex> guard{mutex_};
  ch->id = next_id_++;
  ch->thread = std::thread{[ch, warn = warn_] { ch->run(warn); }};
  channels_.emplace(ch->id, ch);
  ++(terminal_only ? terminal_ : all_);
  return ch->id;
}

void subscriber_hub::remove(uint64_t id) {
  std::shared_ptr<channel> ch;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    auto it = channels_.find(id);
    if (it == channels_.end())
      return;
    ch = std::move(it->second);
    channels_.erase(it);
    --(ch->terminal_only ? terminal_ : all_);
  }
  {
    std::lock_guard<std::mutex> guard{ch->mutex};
    ch->stopping = true;
    ch->queue.clear();
  }
  ch->wake.notify_all();
  ch->idle.notify_all();
  // From its own callback, the thread cannot be waited for: it ends by
  // itself once the callback returns.
  if (ch->thread.get_id() == std::this_thread::get_id())
    ch->thread.detach();
  else
    ch->thread.join();
}

bool subscriber_hub::wants(bool terminal) const {
  return all_.load() > 0 || (terminal && terminal_.load() > 0);
}

void subscriber_hub::publish(journey_snapshot snapshot, flow_ptr model) {
  bool terminal = is_terminal(snapshot.state);
  std::vector<std::shared_ptr<channel>> targets;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    targets.reserve(channels_.size());
    for (const auto& kv : channels_)
      if (!kv.second->terminal_only || terminal)
        targets.push_back(kv.second);
  }
  if (targets.empty())
    return;
  update next{std::make_shared<const journey_snapshot>(std::move(snapshot)),
              std::move(model)};
  for (const auto& target : targets) {
    auto& ch = *target;
    bool was_empty;
    {
      std::lock_guard<std::mutex> guard{ch.mutex};
      if (ch.stopping)
        continue;
      if (ch.queue.size() >= queue_limit_) {
        ++ch.dropped;
        ++ch.unreported;
        continue;
      }
      was_empty = ch.queue.empty();
      ch.queue.push_back(next);
    }
    // The thread sleeps only on an empty queue (and looks before it does).
    if (was_empty)
      ch.wake.notify_one();
  }
}

void subscriber_hub::drain() {
  std::vector<std::shared_ptr<channel>> all;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    for (const auto& kv : channels_)
      all.push_back(kv.second);
  }
  for (const auto& ch : all) {
    if (ch->thread.get_id() == std::this_thread::get_id())
      continue; // a subscriber that flushes cannot wait for itself
    std::unique_lock<std::mutex> guard{ch->mutex};
    ch->idle.wait(guard, [&] {
      return ch->stopping || (ch->queue.empty() && !ch->delivering);
    });
  }
}

uint64_t subscriber_hub::dropped(uint64_t id) const {
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = channels_.find(id);
  if (it == channels_.end())
    return 0;
  std::lock_guard<std::mutex> inner{it->second->mutex};
  return it->second->dropped;
}

} // namespace orca
