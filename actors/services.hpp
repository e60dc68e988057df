#pragma once

// What the actors of an engine share: the clock, the provider directory and
// the place journeys are written to. Created by the engine before any actor
// and destroyed after all of them; every member is thread-safe.

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>

#include "actors/clock.hpp"
#include "persistence/journey_snapshot.hpp"

namespace orca {

/// Provider ids and the adapter actor behind each.
class provider_directory {
public:
  void add(const std::string& id, caf::actor adapter, std::string kind);

  /// The adapter registered as `id`, or an invalid handle.
  caf::actor find(const std::string& id) const;

  struct entry {
    std::string id;
    std::string kind;
    caf::actor adapter;
  };

  /// Every provider, by id.
  std::vector<entry> list() const;

  std::vector<std::string> ids() const;

private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
};

/// Where journeys go when they change. Implemented by the engine.
class journey_sink {
public:
  virtual ~journey_sink();

  /// Persists `snapshot` (group-committed) and tells subscribers once it is
  /// durable.
  virtual void save(const journey_snapshot& snapshot) = 0;

  /// A journey actor died without finishing: record the journey as failed
  /// with `reason`, keeping what was last persisted of it.
  virtual void journey_died(const std::string& order_id,
                            const std::string& flow, uint32_t version,
                            const std::string& reason) = 0;
};

struct journey_services {
  std::shared_ptr<orca::clock> time;
  provider_directory providers;
  journey_sink* sink = nullptr; ///< owned by the engine
};

using services_ptr = std::shared_ptr<journey_services>;

} // namespace orca
