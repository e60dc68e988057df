// Which paths a redrive starts again from a failed journey's snapshot
// (actors/redrive.cpp), on snapshots made by hand: a journey is failed with
// paths still open when its state cannot be saved or an invariant breaks.

#include <catch2/catch.hpp>

#include "actors/redrive.hpp"

using namespace orca;

namespace {

path_state path_at(sequence_id seq, path_phase phase) {
  path_state p;
  p.seq = seq;
  p.phase = phase;
  return p;
}

journey_snapshot failed_journey() {
  journey_snapshot snap;
  snap.order_id = "R-1";
  snap.flow = "Redrive";
  snap.version = 1;
  snap.state = journey_state::failed;
  return snap;
}

std::vector<sequence_id> sequences_of(const journey_snapshot& snap) {
  std::vector<sequence_id> result;
  for (const auto& p : snap.paths)
    result.push_back(p.seq);
  return result;
}

} // namespace

TEST_CASE("a redrive keeps a branch that ended but was not counted yet, "
          "ended, for its element to count") {
  auto snap = failed_journey();
  auto top = path_at(top_sequence, path_phase::branching);
  top.branches = {{1, false, false}, {2, false, false}};
  auto done = path_at(1, path_phase::ended);
  auto live = path_at(2, path_phase::waiting_event);
  snap.paths = {top, done, live};
  auto next = redrive_point(snap, 1000);
  REQUIRE(next);
  CHECK(next->state == journey_state::running);
  REQUIRE(sequences_of(*next) == std::vector<sequence_id>{0, 1, 2});
  // Restored ended, it reports its end to its element: it does not run
  // again from its first step.
  CHECK(next->paths[1].phase == path_phase::ended);
  CHECK(next->paths[2].phase == path_phase::waiting_event);
}

TEST_CASE("a redrive starts again a failed branch its element waits for, "
          "and not one whose failure was handled") {
  auto snap = failed_journey();
  // The top path failed at a split whose branch 2 failed; branch 1's
  // failure, at an earlier element, a condition handled.
  auto top = path_at(top_sequence, path_phase::ended);
  top.failed = true;
  auto top_at_split = path_at(top_sequence, path_phase::branching);
  top_at_split.position = 3;
  top_at_split.branches = {{2, true, true}, {4, true, false}};
  auto handled = path_at(1, path_phase::ready);
  auto failed_branch = path_at(2, path_phase::ready);
  failed_branch.position = 1;
  snap.paths = {top, path_at(1, path_phase::ended),
                path_at(2, path_phase::ended), path_at(4, path_phase::ended)};
  snap.failed_paths = {handled, failed_branch, top_at_split};
  auto next = redrive_point(snap, 1000);
  REQUIRE(next);
  REQUIRE(sequences_of(*next) == std::vector<sequence_id>{0, 2});
  const auto& again = next->paths[0];
  CHECK(again.phase == path_phase::branching);
  CHECK(again.position == 3);
  REQUIRE(again.branches.size() == 2);
  CHECK_FALSE(again.branches[0].ended); // waits for branch 2 again
  CHECK(again.branches[1].ended);       // branch 4 had succeeded
  CHECK(next->paths[1].phase == path_phase::ready);
  CHECK(next->paths[1].position == 1);
}

TEST_CASE("a redrive of a journey failed with paths open starts again a "
          "failed branch its element had counted") {
  // The journey failed (its state could not be saved) while its split
  // waited for branch 1, having counted branch 2 as failed.
  auto snap = failed_journey();
  auto top = path_at(top_sequence, path_phase::branching);
  top.branches = {{1, false, false}, {2, true, true}};
  auto failed_branch = path_at(2, path_phase::ready);
  failed_branch.position = 1;
  snap.paths = {top, path_at(1, path_phase::waiting_event)};
  snap.failed_paths = {failed_branch};
  auto next = redrive_point(snap, 1000);
  REQUIRE(next);
  REQUIRE(sequences_of(*next) == std::vector<sequence_id>{0, 1, 2});
  const auto& again = next->paths[0];
  REQUIRE(again.branches.size() == 2);
  CHECK_FALSE(again.branches[1].ended);
  CHECK_FALSE(again.branches[1].failed);
  CHECK(next->paths[1].phase == path_phase::waiting_event);
  CHECK(next->paths[2].phase == path_phase::ready);
  CHECK(next->paths[2].position == 1);
}
