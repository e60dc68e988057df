#pragma once

// Delivery of journey records to the engine's subscribers, off the commit
// thread: a committed snapshot is queued as it is, and each subscription's
// own thread makes the record. Each has a bounded queue: one
// that is slow falls behind on its own (updates past the bound are dropped,
// counted and reported through `warn`), one that blocks stalls only itself,
// one that throws is reported and goes on, and one may call back into the
// engine. Thread-safe.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "flows/flow.hpp"
#include "persistence/journey_record.hpp"

namespace orca {

class subscriber_hub {
public:
  using subscriber = std::function<void(const journey_record&)>;
  using warn_fn = std::function<void(const std::string&)>;

  /// `queue_limit`: updates a subscription may have waiting before newer
  /// ones are dropped.
  explicit subscriber_hub(warn_fn warn, std::size_t queue_limit = 65536);

  /// Stops every subscription's thread (what is queued is dropped).
  ~subscriber_hub();

  subscriber_hub(const subscriber_hub&) = delete;
  subscriber_hub& operator=(const subscriber_hub&) = delete;

  uint64_t add(subscriber fn, bool terminal_only);

  /// Ends a subscription; waits for a delivery in progress unless called
  /// from that subscription's own callback.
  void remove(uint64_t id);

  /// Whether any subscription wants a record of a journey that is
  /// `terminal` (or not): records nobody wants are not built.
  bool wants(bool terminal) const;

  /// Queues the record of `snapshot`, a journey of flow version `model`,
  /// for every subscription that wants it. Never blocks on a subscriber.
  void publish(journey_snapshot snapshot, flow_ptr model);

  /// Waits until every subscription has delivered what was queued.
  void drain();

  /// How many updates subscription `id` missed because it fell behind.
  uint64_t dropped(uint64_t id) const;

private:
  struct channel;

  warn_fn warn_;
  std::size_t queue_limit_;
  mutable std::mutex mutex_;
  std::map<uint64_t, std::shared_ptr<channel>> channels_;
  uint64_t next_id_ = 1;
  /// Read on every save, without the lock.
  std::atomic<int> all_{0};      ///< subscriptions that want every record
  std::atomic<int> terminal_{0}; ///< subscriptions that want terminal ones only
};

} // namespace orca
