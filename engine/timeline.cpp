#include "engine/timeline.hpp"

#include <ctime>

#include "flows/json.hpp"
#include "persistence/journey_snapshot.hpp"

namespace orca {

namespace {

std::string groups_text(const std::vector<source_group>& groups) {
  std::string text;
  for (const auto& g : groups) {
    if (!text.empty())
      text += ", ";
    text += g.source + " [";
    for (std::size_t i = 0; i < g.line_ids.size(); ++i)
      text += (i > 0 ? " " : "") + g.line_ids[i];
    text += "]";
  }
  return text;
}

std::string describe_entry(const journal_entry& e) {
  switch (e.kind) {
    case journal_kind::started: return "journey started";
    case journal_kind::resumed:
      return std::string{"resumed from the store ("} + to_string(e.state) + ")";
    case journal_kind::redriven: return "redriven from its failed steps";
    case journal_kind::step_started: return "started";
    case journal_kind::step_ended: {
      std::string text = to_string(e.outcome);
      if (e.outcome != step_outcome::skipped && e.attempt > 0)
        text += " after " + std::to_string(e.attempt) + " attempt"
          + (e.attempt == 1 ? "" : "s");
      if (e.code != errc{})
        text += std::string{" ("} + to_string(e.code) + ")";
      if (!e.text.empty())
        text += ": " + e.text;
      return text;
    }
    case journal_kind::provider_called:
      return "called " + quote(e.text) + " (attempt "
        + std::to_string(e.attempt) + ", key " + e.key + ")";
    case journal_kind::provider_answered: {
      if (!e.ok && e.code == errc{}) // written before answers had codes
        return "provider failed: " + e.text;
      if (!e.ok)
        return std::string{"provider failed ("} + to_string(e.code)
          + "): " + e.text;
      std::string text = "provider answered";
      if (!e.fulfillment.empty())
        text += ": " + groups_text(e.fulfillment);
      if (e.invoice_id)
        text += ": invoice " + *e.invoice_id;
      return text;
    }
    case journal_kind::event_received: return "event " + quote(e.text);
    case journal_kind::timer_fired: return e.text;
    case journal_kind::state_changed:
      return std::string{"journey is "} + to_string(e.state);
    case journal_kind::paused: return "flow paused";
    case journal_kind::unpaused: return "flow resumed";
    case journal_kind::cancel_requested: return "cancel requested";
  }
  return "";
}

} // namespace

std::vector<timeline_entry> make_timeline(const std::vector<journal_entry>& j,
                                          const flow& f) {
  std::vector<timeline_entry> result;
  result.reserve(j.size());
  for (const auto& e : j) {
    timeline_entry t;
    t.at = e.at;
    t.kind = to_string(e.kind);
    if (e.step != no_step && e.step < f.steps.size()) {
      const auto& s = f.steps[e.step];
      t.step = s.name;
      t.path = f.sequences[s.sequence].path;
    }
    t.attempt = e.attempt;
    t.detail = describe_entry(e);
    result.push_back(std::move(t));
  }
  return result;
}

std::string format_time(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%d %H:%M:%S", &tm);
  char millis[8];
  std::snprintf(millis, sizeof(millis), ".%03d", static_cast<int>(ms % 1000));
  return std::string{buffer} + millis;
}

} // namespace orca
