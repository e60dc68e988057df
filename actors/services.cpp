#include "actors/services.hpp"

#include <algorithm>

namespace orca {

journey_observer::~journey_observer() = default;

journey_sink::~journey_sink() = default;

bool journey_sink::watches_every_change(const std::string&) const {
  return true;
}

void provider_directory::add(const std::string& id, caf::actor adapter,
                             std::string kind) {
  std::lock_guard<std::mutex> guard{mutex_};
  entries_[id] = entry{id, std::move(kind), std::move(adapter)};
}

caf::actor provider_directory::find(const std::string& id) const {
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = entries_.find(id);
  return it == entries_.end() ? caf::actor{} : it->second.adapter;
}

std::vector<provider_directory::entry> provider_directory::list() const {
  std::vector<entry> result;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    for (const auto& kv : entries_)
      result.push_back(kv.second);
  }
  std::sort(result.begin(), result.end(),
            [](const entry& a, const entry& b) { return a.id < b.id; });
  return result;
}

void provider_directory::clear() {
  std::lock_guard<std::mutex> guard{mutex_};
  entries_.clear();
}

std::vector<std::string> provider_directory::ids() const {
  std::vector<std::string> result;
  for (const auto& e : list())
    result.push_back(e.id);
  return result;
}

} // namespace orca
