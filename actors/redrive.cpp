#include "actors/redrive.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "actors/journey_lifecycle.hpp"
#include "flows/json.hpp"

namespace orca {

namespace {

/// `at_step` (a path as it was at the step that failed it) made ready to
/// run that step again.
path_state again(path_state at_step) {
  at_step.failed = false;
  at_step.cancelled = false;
  at_step.held = false;
  at_step.attempts = 0;
  at_step.deadline = 0;
  at_step.last_error.clear();
  at_step.sending.clear();
  ++at_step.token;
  if (at_step.phase == path_phase::branching) {
    for (auto& slot : at_step.branches)
      if (slot.failed) {
        slot.ended = false;
        slot.failed = false;
      }
  } else {
    at_step.phase = path_phase::ready;
  }
  return at_step;
}

} // namespace

caf::expected<journey_snapshot> redrive_point(const journey_snapshot& failed,
                                              int64_t now) {
  auto name = "journey of order " + quote(failed.order_id) + " on flow "
    + quote(failed.flow);
  if (failed.state != journey_state::failed)
    return make_error(errc::journey_not_failed,
                      name + " is " + to_string(failed.state)
                        + ", not failed: only a failed journey is redriven");
  journey_lifecycle lifecycle{failed.state};
  if (!lifecycle.allows(lifecycle_event::redrive))
    return make_error(errc::journey_not_failed,
                      name + " cannot be redriven from state "
                        + to_string(failed.state));
  std::map<sequence_id, path_state> paths;
  for (const auto& p : failed.paths)
    paths[p.seq] = p;
  // Where a path failed at several steps (a later run failed again), the
  // last failure is where it stands now.
  for (const auto& at_step : failed.failed_paths)
    paths[at_step.seq] = again(at_step);
  if (paths.empty() || paths.count(top_sequence) == 0)
    return make_error(errc::journey_not_failed,
                      name + " has no recorded state to start again from");
  // A journey failed with paths still open (a save that failed, a broken
  // invariant) may have an element that counted a failed branch and waits
  // for others: it waits again for the failed one, which starts again.
  for (auto& [seq, p] : paths) {
    if (p.phase != path_phase::branching)
      continue;
    for (auto& slot : p.branches) {
      auto branch = paths.find(slot.body);
      if (slot.ended && slot.failed && branch != paths.end()
          && branch->second.phase != path_phase::ended) {
        slot.ended = false;
        slot.failed = false;
      }
    }
  }
  // A path goes on only if the path whose element it is a branch of still
  // waits for it. A branch whose failure a condition after its element
  // handled is over, though it failed: its element's path went on. A
  // branch that ended but is not counted yet stays, ended, for its element
  // to count (as a restart keeps it), rather than run again from its start.
  std::set<sequence_id> awaited{top_sequence};
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& [seq, p] : paths) {
      if (awaited.count(seq) == 0 || p.phase != path_phase::branching)
        continue;
      for (const auto& slot : p.branches)
        if (!slot.ended && awaited.insert(slot.body).second)
          grew = true;
    }
  }
  journey_snapshot next = failed;
  lifecycle.fire(lifecycle_event::redrive);
  next.state = lifecycle.state();
  next.run = failed.run + 1;
  next.error.clear();
  next.failed_paths.clear();
  next.cancel_requested = false;
  next.updated_on = now;
  next.paths.clear();
  next.paths.push_back(paths[top_sequence]);
  for (auto& [seq, p] : paths)
    if (seq != top_sequence && awaited.count(seq) != 0)
      next.paths.push_back(std::move(p));
  return next;
}

} // namespace orca
