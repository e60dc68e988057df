#include <catch2/catch.hpp>

#include "actors/journey_lifecycle.hpp"

using namespace orca;

TEST_CASE(
  "a journey's lifecycle goes from received through running to an end") {
  journey_lifecycle lc;
  CHECK(lc.state() == journey_state::received);
  lc.fire(lifecycle_event::start);
  CHECK(lc.state() == journey_state::running);
  lc.fire(lifecycle_event::wait);
  CHECK(lc.state() == journey_state::waiting);
  lc.fire(lifecycle_event::hold);
  CHECK(lc.state() == journey_state::paused);
  lc.fire(lifecycle_event::work);
  CHECK(lc.state() == journey_state::running);
  lc.fire(lifecycle_event::complete);
  CHECK(lc.state() == journey_state::completed);
}

TEST_CASE("a move to where the journey is changes nothing") {
  journey_lifecycle waiting{journey_state::waiting};
  CHECK_NOTHROW(waiting.fire(lifecycle_event::wait));
  CHECK(waiting.state() == journey_state::waiting);
  journey_lifecycle paused{journey_state::paused};
  CHECK_NOTHROW(paused.fire(lifecycle_event::hold));
  CHECK(paused.state() == journey_state::paused);
  journey_lifecycle running{journey_state::running};
  CHECK_NOTHROW(running.fire(lifecycle_event::work));
  CHECK(running.state() == journey_state::running);
}

TEST_CASE("terminal states have no way out but a redrive of a failed journey") {
  for (auto terminal : {lifecycle_event::complete, lifecycle_event::skip,
                        lifecycle_event::cancel, lifecycle_event::fail}) {
    journey_lifecycle lc;
    lc.fire(lifecycle_event::start);
    lc.fire(terminal);
    auto end = lc.state();
    for (auto e :
         {lifecycle_event::start, lifecycle_event::work, lifecycle_event::wait,
          lifecycle_event::hold, lifecycle_event::complete,
          lifecycle_event::skip, lifecycle_event::cancel}) {
      CHECK_FALSE(lc.allows(e));
      CHECK_THROWS_AS(lc.fire(e), impossible_move);
    }
    CHECK(lc.state() == end);
    CHECK(lc.allows(lifecycle_event::redrive)
          == (end == journey_state::failed));
  }
}

TEST_CASE("an impossible move says which move from which state") {
  journey_lifecycle completed{journey_state::completed};
  try {
    completed.fire(lifecycle_event::cancel);
    FAIL("no exception");
  } catch (const impossible_move& e) {
    CHECK(std::string{e.what()}
          == R"(journey lifecycle: no move "cancel" from completed)");
  }
}

TEST_CASE("only a running journey completes or is skipped") {
  journey_lifecycle waiting{journey_state::waiting};
  CHECK_THROWS_AS(waiting.fire(lifecycle_event::complete), impossible_move);
  CHECK_THROWS_AS(waiting.fire(lifecycle_event::skip), impossible_move);
  CHECK(waiting.state() == journey_state::waiting);
  journey_lifecycle received;
  CHECK_THROWS_AS(received.fire(lifecycle_event::complete), impossible_move);
  received.fire(lifecycle_event::hold);
  CHECK(received.state() == journey_state::paused);
  received.fire(lifecycle_event::cancel);
  CHECK(received.state() == journey_state::cancelled);
}

TEST_CASE("a lifecycle restored in any state is in that state") {
  for (int i = 0; i <= 7; ++i) {
    auto state = static_cast<journey_state>(i);
    journey_lifecycle lc{state};
    CHECK(lc.state() == state);
  }
}
