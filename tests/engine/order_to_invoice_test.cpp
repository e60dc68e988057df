// The order-to-invoice example through the engine, with simulated
// providers: conditions, a line-scope splitter with a merge, fulfillment
// orders, waits for events, invoices.

#include "support/engine_fixture.hpp"

using namespace orca;
using namespace orca::test;

namespace {

const char* flow_name = "Order to invoice";

} // namespace

TEST_CASE("a retail order gets one fulfillment order per source, all sent, "
          "then waits for shipping") {
  engine_fixture fx{with_notify()};
  fx.publish_example("order-to-invoice.json");
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1001")).status
          == submit_status::accepted);
  auto waiting = fx.wait_state("SO-1001", flow_name, journey_state::waiting);
  CHECK(waiting.waiting_for == std::vector<std::string>{"fulfillment_shipped"});
  REQUIRE(waiting.fulfillment_orders.size() == 2);
  const auto& sea = waiting.fulfillment_orders[0];
  const auto& ams = waiting.fulfillment_orders[1];
  CHECK(sea.id == "SO-1001-FO1");
  CHECK(sea.source == "WH-SEA");
  CHECK(sea.lines == std::vector<std::string>{"1"});
  CHECK(sea.sent);
  CHECK(ams.id == "SO-1001-FO2");
  CHECK(ams.source == "WH-AMS");
  CHECK(ams.lines == std::vector<std::string>{"2"});
  CHECK(ams.sent);
  // Both were sent in one call of the Ship it step, after they were made.
  auto calls = fx.engine->simulated_calls("fulfillment")->entries();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].fulfillment_orders
        == std::vector<std::string>{"SO-1001-FO1", "SO-1001-FO2"});
  CHECK_FALSE(step_named(waiting, "Bill it"));

  REQUIRE_FALSE(fx.engine->event("SO-1001", "fulfillment_shipped"));
  auto done = fx.wait_terminal("SO-1001", flow_name);
  CHECK(done.state == journey_state::completed);
  CHECK(done.invoice_id == std::optional<std::string>{"INV-SO-1001"});
  std::vector<std::string> names;
  for (const auto& s : done.steps)
    names.push_back(s.name);
  CHECK(names
        == std::vector<std::string>{"Check header", "Check lines",
                                    "Hand to ERP", "Pick warehouse", "Ship it",
                                    "Channel split", "Bill it", "Valid?"});
  CHECK(step_named(done, "Hand to ERP")->outcome == step_outcome::skipped);
  CHECK(step_named(done, "Hand to ERP")->path
        == "Valid?/yes/Channel split/B2B");
  CHECK(step_named(done, "Ship it")->path == "Valid?/yes/Channel split/Retail");
  CHECK(step_named(done, "Bill it")->path == "Valid?/yes");
  CHECK(step_named(done, "Valid?")->outcome == step_outcome::succeeded);
}

TEST_CASE("a B2B order is handed to finance and operations") {
  engine_fixture fx{with_notify()};
  fx.publish_example("order-to-invoice.json");
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1002")).status
          == submit_status::accepted);
  fx.wait_state("SO-1002", flow_name, journey_state::waiting);
  REQUIRE_FALSE(fx.engine->event("SO-1002", "fulfillment_shipped"));
  auto r = fx.wait_terminal("SO-1002", flow_name);
  CHECK(r.state == journey_state::completed);
  CHECK(step_named(r, "Hand to ERP")->outcome == step_outcome::succeeded);
  CHECK(step_named(r, "Pick warehouse")->outcome == step_outcome::skipped);
  CHECK(r.fulfillment_orders.empty());
  CHECK(fx.engine->simulated_calls("fno")->size() == 1);
  CHECK(fx.engine->simulated_calls("fulfillment")->size() == 0);
}

TEST_CASE("a failed header check that no condition routes fails the journey") {
  engine_fixture fx{with_notify()};
  fx.publish_example("order-to-invoice.json");
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1003")).status
          == submit_status::accepted);
  auto r = fx.wait_terminal("SO-1003", flow_name);
  CHECK(r.state == journey_state::failed);
  REQUIRE(r.steps.size() == 1);
  CHECK(r.steps[0].name == "Check header");
  CHECK(r.steps[0].outcome == step_outcome::failed);
  CHECK(r.steps[0].error
        == std::optional<std::string>{
          "customer_id is required; ship_to.country must be an ISO 3166 code"});
}

TEST_CASE("a line-scope filter keeps a gift card out of fulfillment") {
  engine_fixture fx{with_notify()};
  fx.publish_example("order-to-invoice.json");
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1004")).status
          == submit_status::accepted);
  auto r = fx.wait_state("SO-1004", flow_name, journey_state::waiting);
  REQUIRE(r.fulfillment_orders.size() == 1);
  CHECK(r.fulfillment_orders[0].source == "WH-SEA");
  CHECK(r.fulfillment_orders[0].lines == std::vector<std::string>{"2"});
  CHECK(r.fulfillment_orders[0].sent);
}

TEST_CASE("a condition routes a failed line check to notify and the journey "
          "completes") {
  engine_fixture fx{with_notify()};
  fx.publish_example("order-to-invoice.json");
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1005")).status
          == submit_status::accepted);
  auto r = fx.wait_terminal("SO-1005", flow_name);
  CHECK(r.state == journey_state::completed);
  const auto* lines = step_named(r, "Check lines");
  REQUIRE(lines);
  CHECK(lines->outcome == step_outcome::failed);
  CHECK(lines->error
        == std::optional<std::string>{"line \"2\": quantity must be positive"});
  const auto* notify = step_named(r, "Notify customer service");
  REQUIRE(notify);
  CHECK(notify->outcome == step_outcome::succeeded);
  CHECK(notify->path == "Valid?/no");
  CHECK_FALSE(step_named(r, "Channel split"));
  CHECK(step_named(r, "Valid?")->outcome == step_outcome::succeeded);
  auto calls = fx.engine->simulated_calls("notify")->entries();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0].idempotency_key
        == "SO-1005/Order to invoice/1/Notify customer service");
}

TEST_CASE("a step retries until a simulated provider recovers") {
  simulated_config flaky;
  flaky.fail_first_attempts = 2;
  engine_fixture fx{with_notify({{"fulfillment", flaky}})};
  fx.publish_example("order-to-invoice.json");
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1004")).status
          == submit_status::accepted);
  auto r = fx.wait_state("SO-1004", flow_name, journey_state::waiting);
  const auto* ship = step_named(r, "Ship it");
  REQUIRE(ship);
  CHECK(ship->outcome == step_outcome::succeeded);
  CHECK(ship->attempts == 3);
  auto calls = fx.engine->simulated_calls("fulfillment")->entries();
  REQUIRE(calls.size() == 3);
  // Every attempt of the step carries the same idempotency key.
  for (std::size_t i = 0; i < calls.size(); ++i) {
    CHECK(calls[i].attempt == i + 1);
    CHECK(calls[i].idempotency_key == "SO-1004/Order to invoice/1/Ship it");
  }
  CHECK_FALSE(calls[0].ok);
  CHECK_FALSE(calls[1].ok);
  CHECK(calls[2].ok);
}

TEST_CASE("a step fails after its last attempt and fails the journey") {
  simulated_config broken;
  broken.fail_first_attempts = 100;
  engine_fixture fx{with_notify({{"fulfillment", broken}})};
  fx.publish_example("order-to-invoice.json");
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1004")).status
          == submit_status::accepted);
  auto r = fx.wait_terminal("SO-1004", flow_name);
  CHECK(r.state == journey_state::failed);
  const auto* ship = step_named(r, "Ship it");
  REQUIRE(ship);
  CHECK(ship->outcome == step_outcome::failed);
  CHECK(ship->attempts == 5);
  REQUIRE(ship->error);
  CHECK(ship->error->find("simulated failure of attempt 5")
        != std::string::npos);
  CHECK(step_named(r, "Channel split")->outcome == step_outcome::failed);
  CHECK_FALSE(step_named(r, "Bill it"));
  REQUIRE(r.fulfillment_orders.size() == 1);
  CHECK_FALSE(r.fulfillment_orders[0].sent);
  CHECK(fx.engine->simulated_calls("fulfillment")->size() == 5);
}

TEST_CASE("an event that came before the wait is remembered") {
  engine_fixture fx{with_notify()};
  fx.publish_example("order-to-invoice.json");
  simulated_config slow;
  slow.latency_ms = 1000;
  provider_config p;
  p.simulated = slow;
  REQUIRE_FALSE(fx.engine->register_provider("fulfillment", p));
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1001")).status
          == submit_status::accepted);
  // The shipping event arrives while Ship it is still in flight.
  fx.wait_for("SO-1001", flow_name, [](const journey_record& r) {
    return r.fulfillment_orders.size() == 2;
  });
  REQUIRE_FALSE(fx.engine->event("SO-1001", "fulfillment_shipped"));
  auto r = fx.wait_terminal("SO-1001", flow_name);
  CHECK(r.state == journey_state::completed);
  CHECK(r.invoice_id == std::optional<std::string>{"INV-SO-1001"});
}

TEST_CASE("cancel stops a waiting journey and later steps do not run") {
  engine_fixture fx{with_notify()};
  fx.publish_example("order-to-invoice.json");
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1001")).status
          == submit_status::accepted);
  fx.wait_state("SO-1001", flow_name, journey_state::waiting);
  REQUIRE_FALSE(fx.engine->cancel("SO-1001"));
  auto r = fx.wait_terminal("SO-1001", flow_name);
  CHECK(r.state == journey_state::cancelled);
  CHECK_FALSE(step_named(r, "Bill it"));
  CHECK(fx.engine->simulated_calls("billing")->size() == 0);
  SECTION("an event after the cancel changes nothing") {
    REQUIRE_FALSE(fx.engine->event("SO-1001", "fulfillment_shipped"));
    fx.engine->flush();
    auto again = fx.engine->journeys("SO-1001");
    REQUIRE(again);
    REQUIRE(again->size() == 1);
    CHECK((*again)[0].state == journey_state::cancelled);
  }
}
