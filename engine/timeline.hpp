#pragma once

// A journey's journal as a timeline for people and scripts: one line per
// entry, with step names and paths resolved against the journey's flow
// version.

#include <string>
#include <vector>

#include "flows/flow.hpp"
#include "persistence/journal.hpp"

namespace orca {

struct timeline_entry {
  int64_t at = 0;   ///< ms since the Unix epoch
  std::string kind; ///< the journal kind, e.g. "step_ended"
  std::string step; ///< step name, "" for journey-wide entries
  std::string path; ///< path of the step
  uint32_t attempt = 0;
  std::string detail; ///< what happened, in words
};

/// REQUIRES: `f` is the flow version the journal was written on.
std::vector<timeline_entry> make_timeline(const std::vector<journal_entry>& j,
                                          const flow& f);

/// "2026-11-26 15:26:01.123" (UTC).
std::string format_time(int64_t ms);

} // namespace orca
