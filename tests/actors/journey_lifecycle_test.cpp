#include <catch2/catch.hpp>

#include "actors/journey_lifecycle.hpp"

using namespace orca;

TEST_CASE(
  "a journey's lifecycle goes from received through running to an end") {
  journey_lifecycle lc;
  CHECK(lc.state() == journey_state::received);
  CHECK(lc.fire(lifecycle_event::start));
  CHECK(lc.state() == journey_state::running);
  CHECK(lc.fire(lifecycle_event::wait));
  CHECK(lc.state() == journey_state::waiting);
  CHECK(lc.fire(lifecycle_event::hold));
  CHECK(lc.state() == journey_state::paused);
  CHECK(lc.fire(lifecycle_event::work));
  CHECK(lc.state() == journey_state::running);
  CHECK(lc.fire(lifecycle_event::complete));
  CHECK(lc.state() == journey_state::completed);
}

TEST_CASE("terminal states have no way out but a redrive of a failed journey") {
  for (auto terminal : {lifecycle_event::complete, lifecycle_event::skip,
                        lifecycle_event::cancel, lifecycle_event::fail}) {
    journey_lifecycle lc;
    lc.fire(lifecycle_event::start);
    REQUIRE(lc.fire(terminal));
    auto end = lc.state();
    for (auto e :
         {lifecycle_event::start, lifecycle_event::work, lifecycle_event::wait,
          lifecycle_event::hold, lifecycle_event::complete,
          lifecycle_event::skip, lifecycle_event::cancel})
      CHECK_FALSE(lc.fire(e));
    CHECK(lc.state() == end);
    CHECK(lc.fire(lifecycle_event::redrive) == (end == journey_state::failed));
  }
}

TEST_CASE("only a running journey completes or is skipped") {
  journey_lifecycle waiting{journey_state::waiting};
  CHECK_FALSE(waiting.fire(lifecycle_event::complete));
  CHECK_FALSE(waiting.fire(lifecycle_event::skip));
  CHECK(waiting.state() == journey_state::waiting);
  journey_lifecycle received;
  CHECK_FALSE(received.fire(lifecycle_event::complete));
  CHECK(received.fire(lifecycle_event::hold));
  CHECK(received.state() == journey_state::paused);
  CHECK(received.fire(lifecycle_event::cancel));
  CHECK(received.state() == journey_state::cancelled);
}

TEST_CASE("a lifecycle restored in any state is in that state") {
  for (int i = 0; i <= 7; ++i) {
    auto state = static_cast<journey_state>(i);
    journey_lifecycle lc{state};
    CHECK(lc.state() == state);
  }
}
