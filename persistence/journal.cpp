#include "persistence/journal.hpp"

namespace orca {

const char* to_string(journal_kind kind) {
  switch (kind) {
    case journal_kind::started: return "started";
    case journal_kind::step_started: return "step_started";
    case journal_kind::step_ended: return "step_ended";
    case journal_kind::provider_called: return "provider_called";
    case journal_kind::provider_answered: return "provider_answered";
    case journal_kind::event_received: return "event_received";
    case journal_kind::timer_fired: return "timer_fired";
    case journal_kind::state_changed: return "state_changed";
    case journal_kind::resumed: return "resumed";
    case journal_kind::redriven: return "redriven";
    case journal_kind::paused: return "paused";
    case journal_kind::unpaused: return "unpaused";
    case journal_kind::cancel_requested: return "cancel_requested";
  }
  return "unknown";
}

} // namespace orca
