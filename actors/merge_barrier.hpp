#pragma once

// The merge barrier of SPEC §2.3: an element with branches waits until every
// taken branch has ended; it failed if any taken branch ended failed. It
// never waits for a branch that was not taken (those have no slot) and
// succeeds at once when none was taken. Works on the slots stored in the
// element's path state, so it survives snapshots.

#include <vector>

#include "persistence/journey_snapshot.hpp"

namespace orca {

class merge_barrier {
public:
  /// REQUIRES: `slots` outlives the barrier.
  explicit merge_barrier(std::vector<branch_slot>& slots) : slots_(slots) {
  }

  /// Records that the branch whose body is `body` ended. Returns false, and
  /// changes nothing, for a body that has no slot or already ended.
  bool branch_ended(sequence_id body, bool failed);

  /// Every taken branch has ended (true when none was taken).
  bool done() const;

  /// REQUIRES: done().
  step_outcome outcome() const;

  std::size_t pending() const;

private:
  std::vector<branch_slot>& slots_;
};

} // namespace orca
