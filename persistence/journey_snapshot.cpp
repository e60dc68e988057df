#include "persistence/journey_snapshot.hpp"

#include <algorithm>

namespace orca {

namespace {

constexpr const char* state_names[] = {"received",  "running",   "waiting",
                                       "paused",    "completed", "failed",
                                       "cancelled", "skipped"};

} // namespace

const char* to_string(journey_state state) {
  auto i = static_cast<std::size_t>(state);
  return i < std::size(state_names) ? state_names[i] : "unknown";
}

bool fulfillment_order::within(const std::vector<std::string>& line_ids) const {
  for (const auto& line : lines)
    if (std::find(line_ids.begin(), line_ids.end(), line) == line_ids.end())
      return false;
  return true;
}

journey_state visible_state(journey_state state) {
  return state == journey_state::received ? journey_state::running : state;
}

std::optional<journey_state> journey_state_from(std::string_view name) {
  for (std::size_t i = 0; i < std::size(state_names); ++i)
    if (name == state_names[i])
      return static_cast<journey_state>(i);
  return std::nullopt;
}

bool is_terminal(journey_state state) {
  return state == journey_state::completed || state == journey_state::failed
    || state == journey_state::cancelled || state == journey_state::skipped;
}

const char* to_string(step_outcome outcome) {
  switch (outcome) {
    case step_outcome::succeeded: return "succeeded";
    case step_outcome::failed: return "failed";
    case step_outcome::skipped: return "skipped";
  }
  return "unknown";
}

const char* to_string(path_phase phase) {
  switch (phase) {
    case path_phase::ready: return "ready";
    case path_phase::waiting_event: return "waiting_event";
    case path_phase::calling: return "calling";
    case path_phase::backoff: return "backoff";
    case path_phase::retry: return "retry";
    case path_phase::claiming: return "claiming";
    case path_phase::branching: return "branching";
    case path_phase::ended: return "ended";
  }
  return "unknown";
}

path_state initial_path(const order& o) {
  path_state p;
  p.lines = all_lines(o);
  return p;
}

bool behind_a_stop(const journey_snapshot& s, uint32_t flow_cancel_epoch) {
  return s.cancel_epoch < flow_cancel_epoch && !s.cancel_requested;
}

bool started_a_step(bool ran_steps, const path_state& top, bool has_branches) {
  return ran_steps || has_branches || top.position > 0
    || top.phase != path_phase::ready;
}

bool started_a_step(const journey_snapshot& s) {
  return s.paths.empty()
    || started_a_step(!s.steps.empty(), s.paths.front(), s.paths.size() > 1);
}

journey_snapshot moved_to_version(const journey_snapshot& from, uint32_t latest,
                                  const order& o, int64_t now) {
  journey_snapshot next;
  next.order_id = from.order_id;
  next.flow = from.flow;
  next.version = latest;
  next.created_on = from.created_on;
  next.updated_on = now;
  next.events = from.events;
  next.cancel_requested = from.cancel_requested;
  next.cancel_epoch = from.cancel_epoch;
  next.paths.push_back(initial_path(o));
  return next;
}

} // namespace orca
