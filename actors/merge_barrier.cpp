#include "actors/merge_barrier.hpp"

#include <cassert>

namespace orca {

bool merge_barrier::branch_ended(sequence_id body, bool failed) {
  for (auto& slot : slots_) {
    if (slot.body != body)
      continue;
    if (slot.ended)
      return false;
    slot.ended = true;
    slot.failed = failed;
    return true;
  }
  return false;
}

bool merge_barrier::done() const {
  return pending() == 0;
}

std::size_t merge_barrier::pending() const {
  std::size_t n = 0;
  for (const auto& slot : slots_)
    if (!slot.ended)
      ++n;
  return n;
}

step_outcome merge_barrier::outcome() const {
  assert(done()); // REQUIRES
  for (const auto& slot : slots_)
    if (slot.failed)
      return step_outcome::failed;
  return step_outcome::succeeded;
}

} // namespace orca
