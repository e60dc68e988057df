// Replay of a journey's journal (on its own version and on another one) and
// redrive of a failed journey.

#include "support/engine_fixture.hpp"

using namespace orca;
using namespace orca::test;

namespace {

const char* invoice_flow = "Order to invoice";

struct step_line {
  std::string name;
  std::string path;
  step_outcome outcome;
  uint32_t attempts;
  bool operator==(const step_line& o) const {
    return name == o.name && path == o.path && outcome == o.outcome
      && attempts == o.attempts;
  }
};

std::multiset<std::tuple<std::string, std::string, int, uint32_t>>
steps_of(const journey_record& r) {
  std::multiset<std::tuple<std::string, std::string, int, uint32_t>> result;
  for (const auto& s : r.steps)
    result.emplace(s.name, s.path, static_cast<int>(s.outcome), s.attempts);
  return result;
}

} // namespace

TEST_CASE("a replay of a journey's journal gives the recorded run") {
  simulated_config flaky;
  flaky.fail_first_attempts = 2;
  engine_fixture fx{with_notify({{"fulfillment", flaky}})};
  fx.publish_example("order-to-invoice.json");
  for (auto id : {"SO-1001", "SO-1002", "SO-1003", "SO-1004", "SO-1005"})
    REQUIRE(fx.submit(engine_fixture::example_order(id)).status
            == submit_status::accepted);
  for (auto id : {"SO-1001", "SO-1002", "SO-1004"}) {
    fx.wait_state(id, invoice_flow, journey_state::waiting);
    REQUIRE_FALSE(fx.engine->event(id, "fulfillment_shipped"));
  }
  for (auto id : {"SO-1001", "SO-1002", "SO-1003", "SO-1004", "SO-1005"}) {
    INFO(id);
    fx.wait_terminal(id, invoice_flow);
    fx.engine->flush();
    auto report = fx.engine->replay(id, std::nullopt);
    REQUIRE(report);
    CHECK_FALSE(report->divergence);
    if (report->divergence)
      FAIL_CHECK(*report->divergence);
    CHECK(report->version == 1);
    CHECK(report->replayed.state == report->recorded.state);
    CHECK(steps_of(report->replayed) == steps_of(report->recorded));
    CHECK(report->replayed.invoice_id == report->recorded.invoice_id);
    CHECK(report->replayed.fulfillment_orders.size()
          == report->recorded.fulfillment_orders.size());
    CHECK_FALSE(report->timeline.empty());
  }
  // Nothing was sent by the replays: Ship it ran three times for each of
  // SO-1001 and SO-1004, and that is all.
  CHECK(fx.engine->simulated_calls("fulfillment")->size() == 6);
}

TEST_CASE("a replay of a journey that still waits stops where it waits") {
  engine_fixture fx{with_notify()};
  fx.publish_example("order-to-invoice.json");
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1001")).status
          == submit_status::accepted);
  fx.wait_state("SO-1001", invoice_flow, journey_state::waiting);
  fx.engine->flush();
  auto report = fx.engine->replay("SO-1001", std::string{invoice_flow});
  REQUIRE(report);
  CHECK_FALSE(report->divergence);
  CHECK(report->replayed.state == journey_state::waiting);
  CHECK(steps_of(report->replayed) == steps_of(report->recorded));
}

TEST_CASE(
  "a replay against another version reports where that version diverges") {
  engine_fixture fx{with_notify()};
  fx.publish_example("order-to-invoice.json");
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1001")).status
          == submit_status::accepted);
  fx.wait_state("SO-1001", invoice_flow, journey_state::waiting);
  REQUIRE_FALSE(fx.engine->event("SO-1001", "fulfillment_shipped"));
  fx.wait_terminal("SO-1001", invoice_flow);
  REQUIRE_FALSE(fx.engine->stop_flow(invoice_flow));
  SECTION("an unchanged version does not diverge") {
    REQUIRE(fx.engine->update_flow(example("order-to-invoice.json")));
    REQUIRE(*fx.engine->publish_flow(invoice_flow) == 2);
    auto report = fx.engine->replay("SO-1001", std::nullopt, 2u);
    REQUIRE(report);
    CHECK(report->version == 2);
    CHECK_FALSE(report->divergence);
    CHECK(report->replayed.state == journey_state::completed);
  }
  SECTION("a version that rejects the lines diverges at the line check") {
    auto text = example("order-to-invoice.json");
    auto rule = std::string{R"("op": "gt", "value": 0})"};
    auto at = text.find(rule);
    REQUIRE(at != std::string::npos);
    text.replace(at, rule.size(), R"("op": "gt", "value": 1})");
    REQUIRE(fx.engine->update_flow(text));
    REQUIRE(*fx.engine->publish_flow(invoice_flow) == 2);
    auto report = fx.engine->replay("SO-1001", std::nullopt, 2u);
    REQUIRE(report);
    REQUIRE(report->divergence);
    CHECK(report->divergence->find("\"Check lines\" succeeded")
          != std::string::npos);
    CHECK(report->divergence->find("replayed \"Check lines\" failed")
          != std::string::npos);
    CHECK(report->divergence->find("quantity must be positive")
          != std::string::npos);
  }
  SECTION("a version with a new provider step stops where nothing answered") {
    auto text = example("order-to-invoice.json");
    auto bill = std::string{R"({"action": "send_to_invoice")"};
    auto at = text.find(bill);
    REQUIRE(at != std::string::npos);
    text.insert(
      at, R"({"action": "custom", "name": "Audit", "provider": "notify"}, )");
    REQUIRE(fx.engine->update_flow(text));
    REQUIRE(*fx.engine->publish_flow(invoice_flow) == 2);
    auto report = fx.engine->replay("SO-1001", std::nullopt, 2u);
    REQUIRE(report);
    REQUIRE(report->divergence);
    CHECK(report->divergence->find("provider \"notify\" at step \"Audit\"")
          != std::string::npos);
    CHECK(report->divergence->find("never answered") != std::string::npos);
  }
}

TEST_CASE(
  "a failed journey is redriven from its failed step and keeps its history") {
  simulated_config broken;
  broken.fail_first_attempts = 100;
  engine_fixture fx{with_notify({{"fulfillment", broken}})};
  fx.publish_example("order-to-invoice.json");
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1001")).status
          == submit_status::accepted);
  auto failed = fx.wait_terminal("SO-1001", invoice_flow);
  REQUIRE(failed.state == journey_state::failed);
  CHECK(step_named(failed, "Ship it")->attempts == 5);
  SECTION("a journey that is not failed cannot be redriven") {
    REQUIRE(fx.submit(engine_fixture::example_order("SO-1005")).status
            == submit_status::accepted);
    fx.wait_terminal("SO-1005", invoice_flow);
    auto refused = fx.engine->redrive("SO-1005", std::nullopt);
    REQUIRE_FALSE(refused);
    CHECK(refused.error() == errc::journey_not_failed);
    CHECK(describe(refused.error()).find("is completed, not failed")
          != std::string::npos);
  }
  SECTION("a redrive after a stop that cancelled in-flight journeys runs on") {
    // The stop cancels what was in flight when it came; a journey redriven
    // after it is a new start, which the stop must not catch up with when
    // the journey wakes from the store.
    REQUIRE_FALSE(fx.engine->stop_flow(invoice_flow, true));
    REQUIRE_FALSE(
      fx.engine->register_provider("fulfillment", provider_config{}));
    REQUIRE(fx.engine->redrive("SO-1001", std::nullopt));
    fx.wait_state("SO-1001", invoice_flow, journey_state::waiting);
    fx.wait_passivated(invoice_flow, 1, 1);
    REQUIRE_FALSE(fx.engine->event("SO-1001", "fulfillment_shipped"));
    CHECK(fx.wait_terminal("SO-1001", invoice_flow).state
          == journey_state::completed);
  }
  SECTION("after the provider recovers the journey goes on to the end") {
    REQUIRE_FALSE(
      fx.engine->register_provider("fulfillment", provider_config{}));
    auto redriven = fx.engine->redrive("SO-1001", std::nullopt);
    REQUIRE(redriven);
    CHECK(redriven->state == journey_state::running);
    auto waiting =
      fx.wait_state("SO-1001", invoice_flow, journey_state::waiting);
    REQUIRE_FALSE(fx.engine->event("SO-1001", "fulfillment_shipped"));
    auto done = fx.wait_terminal("SO-1001", invoice_flow);
    CHECK(done.state == journey_state::completed);
    // History: the failed Ship it (5 attempts), then the one that worked.
    std::vector<std::pair<step_outcome, uint32_t>> ships;
    for (const auto& s : done.steps)
      if (s.name == "Ship it")
        ships.emplace_back(s.outcome, s.attempts);
    REQUIRE(ships.size() == 2);
    CHECK(ships[0] == std::make_pair(step_outcome::failed, 5u));
    CHECK(ships[1] == std::make_pair(step_outcome::succeeded, 1u));
    // Steps that had succeeded did not run again.
    auto count = [&](const char* name) {
      return std::count_if(done.steps.begin(), done.steps.end(),
                           [&](const step_entry& s) { return s.name == name; });
    };
    CHECK(count("Check header") == 1);
    CHECK(count("Pick warehouse") == 1);
    for (const auto& fo : done.fulfillment_orders)
      CHECK(fo.sent);
    CHECK(done.fulfillment_orders.size() == 2);
    auto calls = fx.engine->simulated_calls("fulfillment")->entries();
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].idempotency_key == "SO-1001/Order to invoice/1/Ship it/r1");
    CHECK(calls[0].attempt == 1);
  }
}
