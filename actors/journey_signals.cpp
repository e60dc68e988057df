#include "actors/journey_signals.hpp"

#include <algorithm>
#include <utility>

namespace orca {

bool holds_event(const std::vector<std::string>& received,
                 const std::vector<std::string>& types) {
  for (const auto& type : types)
    if (type == event_types::new_order
        || std::find(received.begin(), received.end(), type) != received.end())
      return true;
  return false;
}

bool journey_signals::take(journal_kind signal, const std::string& type) {
  switch (signal) {
    case journal_kind::event_received:
      if (std::find(events.begin(), events.end(), type) != events.end())
        return false;
      events.push_back(type);
      return true;
    case journal_kind::cancel_requested:
      return !std::exchange(cancelling, true);
    case journal_kind::paused: return !std::exchange(paused, true);
    case journal_kind::unpaused: return std::exchange(paused, false);
    default: return false;
  }
}

std::optional<int64_t> sleep_until(const flow& f,
                                   const std::vector<path_state>& paths,
                                   const std::vector<std::string>& received) {
  int64_t wake_at = 0;
  for (const auto& p : paths) {
    // A branch that ended and is still among the paths has yet to be
    // counted by its element, whose path is about to go on.
    if (p.phase == path_phase::ended && p.seq != top_sequence)
      return std::nullopt;
    if (p.phase != path_phase::waiting_event)
      continue;
    // A path that does not fit the flow (a damaged record) is not put to
    // sleep: restoring it reports what is wrong.
    if (p.seq >= f.sequences.size()
        || p.position >= f.sequences[p.seq].steps.size())
      return std::nullopt;
    const auto& s = f.steps[f.sequences[p.seq].steps[p.position]];
    if (holds_event(received, s.input_events))
      return std::nullopt;
    if (p.deadline > 0 && (wake_at == 0 || p.deadline < wake_at))
      wake_at = p.deadline;
  }
  return wake_at;
}

} // namespace orca
