// Time in journeys: back-off between attempts, per-attempt time-outs and
// waits for events, all on an injected clock (no test sleeps through them).

#include "support/engine_fixture.hpp"

using namespace orca;
using namespace orca::test;

namespace {

/// Waits until the log of `provider` has `n` entries.
void wait_calls(engine_fixture& fx, const std::string& provider,
                std::size_t n) {
  auto log = fx.engine->simulated_calls(provider);
  eventually([&] { return log->size() >= n; });
  REQUIRE(log->size() == n);
}

} // namespace

TEST_CASE("attempts wait for an exponential back-off on the engine's clock") {
  simulated_config flaky;
  flaky.fail_first_attempts = 3;
  engine_fixture fx{with_notify({{"flaky", flaky}})};
  fx.publish(R"({"name": "Retry", "type": "order", "steps": [
    {"action": "custom", "name": "Call", "provider": "flaky",
     "retry": {"max_attempts": 4, "backoff_ms": 100, "max_backoff_ms": 150}}]})");
  REQUIRE(fx.submit(minimal_order("R-1")).status == submit_status::accepted);
  // Each attempt leaves its time-out pending (a manual clock keeps
  // cancelled timers until they fall due, far beyond this test), so the
  // back-off after attempt k is there once k + 1 timers are pending.
  wait_calls(fx, "flaky", 1);
  REQUIRE(fx.clock->wait_for_pending(2, std::chrono::seconds(5)));
  fx.clock->advance(99);
  CHECK(fx.engine->simulated_calls("flaky")->size() == 1);
  fx.clock->advance(1);
  wait_calls(fx, "flaky", 2);
  // The second back-off doubles to 200 ms but the cap is 150 ms.
  REQUIRE(fx.clock->wait_for_pending(3, std::chrono::seconds(5)));
  fx.clock->advance(149);
  CHECK(fx.engine->simulated_calls("flaky")->size() == 2);
  fx.clock->advance(1);
  wait_calls(fx, "flaky", 3);
  REQUIRE(fx.clock->wait_for_pending(4, std::chrono::seconds(5)));
  fx.clock->advance(150);
  wait_calls(fx, "flaky", 4);
  auto r = fx.wait_terminal("R-1", "Retry");
  CHECK(r.state == journey_state::completed);
  CHECK(r.steps[0].attempts == 4);
}

TEST_CASE("an attempt that takes longer than timeout_ms fails and is retried") {
  simulated_config slow;
  slow.latency_ms = 1000;
  engine_fixture fx{with_notify({{"slow", slow}})};
  fx.publish(R"({"name": "Timeout", "type": "order", "steps": [
    {"action": "custom", "name": "Call", "provider": "slow", "timeout_ms": 200,
     "retry": {"max_attempts": 2, "backoff_ms": 10}}]})");
  REQUIRE(fx.submit(minimal_order("T-1")).status == submit_status::accepted);
  auto r = fx.wait_terminal("T-1", "Timeout");
  CHECK(r.state == journey_state::failed);
  CHECK(r.steps[0].attempts == 2);
  CHECK(r.steps[0].error
        == std::optional<std::string>{"timed out after 200 ms"});
}

TEST_CASE("a late answer after a time-out does not count") {
  simulated_config slow;
  slow.latency_ms = 300;
  engine_fixture fx{with_notify({{"slow", slow}})};
  fx.publish(R"({"name": "Late", "type": "order", "steps": [
    {"action": "custom", "name": "Call", "provider": "slow", "timeout_ms": 200,
     "retry": {"max_attempts": 3, "backoff_ms": 1000}}]})");
  REQUIRE(fx.submit(minimal_order("L-1")).status == submit_status::accepted);
  // Attempt 1 times out at 200 ms; its answer comes at 300 ms, during the
  // back-off, and is ignored; attempt 2 starts at 1200 ms.
  wait_calls(fx, "slow", 1);
  REQUIRE(fx.clock->wait_for_pending(2, std::chrono::seconds(5)));
  fx.clock->advance(200);
  REQUIRE(fx.clock->wait_for_pending(2, std::chrono::seconds(5)));
  fx.clock->advance(100);
  fx.engine->flush();
  auto mid = fx.engine->journeys("L-1");
  REQUIRE(mid);
  CHECK((*mid)[0].steps.empty());
  CHECK((*mid)[0].state == journey_state::running);
  auto r = fx.wait_terminal("L-1", "Late");
  CHECK(r.state == journey_state::failed);
  CHECK(r.steps[0].attempts == 3);
}

TEST_CASE("a wait for an event fails after wait_timeout_ms") {
  engine_fixture fx{with_notify()};
  fx.publish(R"({"name": "Wait", "type": "order", "steps": [
    {"action": "custom", "name": "After pick-up", "provider": "notify",
     "input_events": ["picked_up", "collected"], "wait_timeout_ms": 60000}]})");
  REQUIRE(fx.submit(minimal_order("W-1")).status == submit_status::accepted);
  auto waiting = fx.wait_state("W-1", "Wait", journey_state::waiting);
  CHECK(waiting.waiting_for
        == std::vector<std::string>{"picked_up", "collected"});
  SECTION("the event comes in time") {
    fx.clock->advance(59000);
    REQUIRE_FALSE(fx.engine->event("W-1", "collected"));
    auto r = fx.wait_terminal("W-1", "Wait");
    CHECK(r.state == journey_state::completed);
  }
  SECTION("it does not") {
    REQUIRE(fx.clock->wait_for_pending(1, std::chrono::seconds(5)));
    fx.clock->advance(59999);
    fx.engine->flush();
    CHECK(fx.engine->journeys("W-1")->front().state == journey_state::waiting);
    fx.clock->advance(1);
    auto r = fx.wait_terminal("W-1", "Wait");
    CHECK(r.state == journey_state::failed);
    CHECK(r.steps[0].error
          == std::optional<std::string>{
            "no picked_up or collected event within 60000 ms"});
    CHECK(r.steps[0].attempts == 0);
  }
}

TEST_CASE("new_order is satisfied by the order's own arrival") {
  engine_fixture fx{with_notify()};
  fx.publish(R"({"name": "New", "type": "order", "steps": [
    {"action": "custom", "name": "At once", "provider": "notify",
     "input_events": ["new_order"]}]})");
  REQUIRE(fx.submit(minimal_order("N-1")).status == submit_status::accepted);
  CHECK(fx.wait_terminal("N-1", "New").state == journey_state::completed);
}

TEST_CASE("time spent paused does not count toward a wait") {
  // Every way a waiting journey spends a pause: passivated to the store
  // (its supervisor keeps the wake-up time), in memory, and across a
  // restart of the node, and woken during the pause by an event it does
  // not wait for (then it goes back to the store).
  enum mode { passivated, in_memory, restarted, woken };
  auto how = GENERATE(passivated, in_memory, restarted, woken);
  CAPTURE(how);
  engine_fixture fx{with_notify(), false, how != in_memory};
  fx.publish(R"({"name": "Wait", "type": "order", "steps": [
    {"action": "custom", "name": "After pick-up", "provider": "notify",
     "input_events": ["picked_up"], "wait_timeout_ms": 60000}]})");
  REQUIRE(fx.submit(minimal_order("WP-1")).status == submit_status::accepted);
  fx.wait_state("WP-1", "Wait", journey_state::waiting);
  REQUIRE(fx.clock->wait_for_pending(1, std::chrono::seconds(5)));
  fx.clock->advance(20000);
  REQUIRE_FALSE(fx.engine->pause_flow("Wait"));
  // Far past the deadline, all of it paused.
  fx.clock->advance(100000);
  fx.engine->flush();
  if (how == woken) {
    REQUIRE_FALSE(fx.engine->event("WP-1", "noted"));
    fx.wait_passivated("Wait", 1, 1);
  }
  if (how == restarted) {
    fx.close();
    fx.open(with_notify());
  }
  CHECK(fx.engine->journeys("WP-1")->front().state == journey_state::waiting);
  REQUIRE_FALSE(fx.engine->resume_flow("Wait"));
  REQUIRE(fx.clock->wait_for_pending(1, std::chrono::seconds(5)));
  // 40 s of the wait were left at the pause.
  fx.clock->advance(39999);
  fx.engine->flush();
  CHECK(fx.engine->journeys("WP-1")->front().state == journey_state::waiting);
  fx.clock->advance(1);
  auto r = fx.wait_terminal("WP-1", "Wait");
  CHECK(r.state == journey_state::failed);
  CHECK(r.steps[0].error
        == std::optional<std::string>{"no picked_up event within 60000 ms"});
  // Replay follows the same time: the pause is in the journal, or in the
  // flow's time that each resumption from the store records.
  auto replay = fx.engine->replay("WP-1", std::nullopt, std::nullopt);
  REQUIRE(replay);
  CHECK_FALSE(replay->divergence);
  CHECK(replay->replayed.state == journey_state::failed);
}

TEST_CASE("a back-off stands still while the flow is paused") {
  simulated_config flaky;
  flaky.fail_first_attempts = 1;
  engine_fixture fx{with_notify({{"flaky", flaky}})};
  fx.publish(R"({"name": "Retry", "type": "order", "steps": [
    {"action": "custom", "name": "Call", "provider": "flaky",
     "retry": {"max_attempts": 2, "backoff_ms": 1000}}]})");
  REQUIRE(fx.submit(minimal_order("RP-1")).status == submit_status::accepted);
  wait_calls(fx, "flaky", 1);
  fx.engine->flush();
  REQUIRE_FALSE(fx.engine->pause_flow("Retry"));
  auto state_is = [&](journey_state s) {
    return fx.watch.wait([&] {
      auto r = fx.watch.find("RP-1", "Retry");
      return r && r->state == s;
    });
  };
  // The answer of the failed attempt came before the pause: the path backs
  // off, and a back-off in a paused flow holds the journey.
  REQUIRE(state_is(journey_state::paused));
  fx.clock->advance(5000);
  fx.engine->flush();
  CHECK(fx.engine->simulated_calls("flaky")->size() == 1);
  REQUIRE_FALSE(fx.engine->resume_flow("Retry"));
  REQUIRE(state_is(journey_state::running));
  // The whole back-off is still to run.
  fx.clock->advance(999);
  fx.engine->flush();
  CHECK(fx.engine->simulated_calls("flaky")->size() == 1);
  fx.clock->advance(1);
  wait_calls(fx, "flaky", 2);
  auto r = fx.wait_terminal("RP-1", "Retry");
  CHECK(r.state == journey_state::completed);
  CHECK(r.steps[0].attempts == 2);
}

TEST_CASE("an engine settles once every journey has done what it can without "
          "time passing") {
  // Each journey splits, merges and calls a provider that answers at once,
  // twelve times: messages among actors, and no commit between its
  // intake's and its end's (its saves while it runs wait for a timer that
  // this clock does not fire). Once the engine has settled, each has
  // ended, though nothing waited for any of them.
  engine_fixture fx{with_notify({{"quick", simulated_config{}}})};
  std::string after;
  for (int i = 0; i < 10; ++i)
    after += R"(, {"action": "custom", "name": "After )" + std::to_string(i)
      + R"(", "provider": "quick"})";
  fx.publish(R"({"name": "Quick", "type": "order", "steps": [
    {"element": "splitter_merge", "name": "Fan", "branches": [
      {"name": "a", "steps": [{"action": "custom", "name": "A", "provider": "quick"}]},
      {"name": "b", "steps": [{"action": "custom", "name": "B", "provider": "quick"}]}]})"
             + after + "]}");
  constexpr int orders = 300;
  for (int i = 0; i < orders; ++i)
    REQUIRE(fx.submit(minimal_order("Q-" + std::to_string(i))).status
            == submit_status::accepted);
  REQUIRE(fx.engine->settle(std::chrono::seconds(30)));
  journey_query everything;
  everything.flow = "Quick";
  auto listed = fx.engine->list_journeys(everything);
  REQUIRE(listed);
  REQUIRE(listed->size() == orders);
  for (const auto& r : *listed) {
    INFO(r.order_id);
    CHECK(r.state == journey_state::completed);
  }
  CHECK(fx.engine->simulated_calls("quick")->size() == 12 * orders);
}
