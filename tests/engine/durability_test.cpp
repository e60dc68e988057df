// Journeys survive restarts and leave memory while they wait: recovery from
// snapshots, passivation, and the journal.

#include "support/engine_fixture.hpp"

using namespace orca;
using namespace orca::test;

namespace {

const char* invoice_flow = "Order to invoice";

std::string waiting_flow(uint32_t wait_timeout_ms) {
  return R"({"name": "Wait", "type": "order", "steps": [
    {"action": "validate_order_header", "name": "Check"},
    {"action": "custom", "name": "After pick-up", "provider": "notify",
     "input_events": ["picked_up"], "wait_timeout_ms": )"
    + std::to_string(wait_timeout_ms) + "}]}";
}

} // namespace

TEST_CASE("a waiting journey leaves memory and its event brings it back") {
  engine_fixture fx{with_notify()};
  fx.publish_example("order-to-invoice.json");
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1001")).status
          == submit_status::accepted);
  fx.wait_state("SO-1001", invoice_flow, journey_state::waiting);
  fx.wait_passivated(invoice_flow, 1, 1);
  REQUIRE_FALSE(fx.engine->event("SO-1001", "fulfillment_shipped"));
  auto r = fx.wait_terminal("SO-1001", invoice_flow);
  CHECK(r.state == journey_state::completed);
  CHECK(r.invoice_id == std::optional<std::string>{"INV-SO-1001"});
  // Everything it did before it slept is still there, once.
  CHECK(r.steps.size() == 8);
  CHECK(fx.engine->simulated_calls("fulfillment")->size() == 1);
}

TEST_CASE("a passivated journey is cancelled by its cancel") {
  engine_fixture fx{with_notify()};
  fx.publish_example("order-to-invoice.json");
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1004")).status
          == submit_status::accepted);
  fx.wait_passivated(invoice_flow, 1, 1);
  REQUIRE_FALSE(fx.engine->cancel("SO-1004"));
  auto r = fx.wait_terminal("SO-1004", invoice_flow);
  CHECK(r.state == journey_state::cancelled);
  CHECK_FALSE(step_named(r, "Bill it"));
  fx.wait_passivated(invoice_flow, 1, 0);
}

TEST_CASE("a passivated journey wakes when its wait times out") {
  engine_fixture fx{with_notify()};
  fx.publish(waiting_flow(30000));
  REQUIRE(fx.submit(R"({"id": "P-1", "lines": []})").status
          == submit_status::accepted);
  fx.wait_passivated("Wait", 1, 1);
  REQUIRE(fx.clock->wait_for_pending(1, std::chrono::seconds(5)));
  fx.clock->advance(29999);
  fx.engine->flush();
  CHECK(fx.engine->journeys("P-1")->front().state == journey_state::waiting);
  fx.clock->advance(1);
  auto r = fx.wait_terminal("P-1", "Wait");
  CHECK(r.state == journey_state::failed);
  CHECK(step_named(r, "After pick-up")->error
        == std::optional<std::string>{"no picked_up event within 30000 ms"});
}

TEST_CASE("journeys resume after a restart where they were") {
  engine_fixture fx{with_notify()};
  fx.publish_example("order-to-invoice.json");
  fx.publish(waiting_flow(60000));
  for (auto id : {"SO-1001", "SO-1002", "SO-1005"})
    REQUIRE(fx.submit(engine_fixture::example_order(id)).status
            == submit_status::accepted);
  fx.wait_state("SO-1001", invoice_flow, journey_state::waiting);
  fx.wait_state("SO-1002", invoice_flow, journey_state::waiting);
  fx.wait_terminal("SO-1005", invoice_flow);
  fx.wait_state("SO-1001", "Wait", journey_state::waiting);
  REQUIRE_FALSE(fx.engine->pause_flow(invoice_flow));
  fx.close();

  fx.open(with_notify());
  auto flow = fx.engine->get_flow(invoice_flow);
  REQUIRE(flow);
  CHECK(flow->status == flow_status::published);
  CHECK(flow->paused);
  // Waiting journeys wait again, passivated; a finished one stays finished.
  fx.wait_passivated(invoice_flow, 1, 2);
  CHECK(fx.engine->journeys("SO-1005")->front().state
        == journey_state::completed);
  // The paused flow holds the one whose event comes.
  REQUIRE_FALSE(fx.engine->event("SO-1001", "fulfillment_shipped"));
  fx.wait_state("SO-1001", invoice_flow, journey_state::paused);
  REQUIRE_FALSE(fx.engine->resume_flow(invoice_flow));
  auto done = fx.wait_terminal("SO-1001", invoice_flow);
  CHECK(done.state == journey_state::completed);
  CHECK(done.steps.size() == 8);
  // The wait's deadline survived the restart too (the fixture lets time
  // run whenever the engine is idle).
  auto timed_out = fx.wait_terminal("SO-1001", "Wait");
  CHECK(timed_out.state == journey_state::failed);
  CHECK(step_named(timed_out, "After pick-up")->error
        == std::optional<std::string>{"no picked_up event within 60000 ms"});
}

TEST_CASE(
  "a provider call in flight at a restart is sent again with the same key") {
  simulated_config slow;
  slow.latency_ms = 5000;
  engine_fixture fx{with_notify({{"notify", slow}})};
  fx.publish(R"({"name": "Call", "type": "order", "steps": [
    {"action": "custom", "name": "Tell", "provider": "notify"}]})");
  REQUIRE(fx.submit(R"({"id": "F-1", "lines": []})").status
          == submit_status::accepted);
  auto log = fx.engine->simulated_calls("notify");
  eventually([&] { return log->size() > 0; });
  REQUIRE(log->size() == 1);
  fx.engine->flush();
  fx.close();

  fx.open(with_notify());
  auto r = fx.wait_terminal("F-1", "Call");
  CHECK(r.state == journey_state::completed);
  CHECK(r.steps[0].attempts == 1);
  auto again = fx.engine->simulated_calls("notify")->entries();
  REQUIRE(again.size() == 1);
  CHECK(again[0].idempotency_key == log->entries()[0].idempotency_key);
  CHECK(again[0].attempt == 1);
}

TEST_CASE("the journal records what happened, in order") {
  simulated_config flaky;
  flaky.fail_first_attempts = 1;
  engine_fixture fx{with_notify({{"fulfillment", flaky}})};
  fx.publish_example("order-to-invoice.json");
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1004")).status
          == submit_status::accepted);
  fx.wait_state("SO-1004", invoice_flow, journey_state::waiting);
  REQUIRE_FALSE(fx.engine->event("SO-1004", "fulfillment_shipped"));
  fx.wait_terminal("SO-1004", invoice_flow);
  fx.engine->flush();
  auto journal = fx.engine->journal("SO-1004", invoice_flow, 1);
  REQUIRE(journal);
  std::vector<std::string> kinds;
  for (const auto& e : *journal)
    kinds.push_back(to_string(e.kind));
  CHECK(kinds.front() == "started");
  std::string listing;
  for (const auto& e : *journal)
    listing += std::string{to_string(e.kind)} + " " + std::to_string(e.step)
      + " " + e.text + "\n";
  INFO(listing);
  auto count = [&](journal_kind k) {
    return std::count_if(journal->begin(), journal->end(),
                         [k](const journal_entry& e) { return e.kind == k; });
  };
  CHECK(count(journal_kind::provider_called) == 3); // Ship it twice, Bill it
  CHECK(count(journal_kind::event_received) == 1);
  CHECK(count(journal_kind::timer_fired) == 1); // the back-off
  CHECK(count(journal_kind::step_ended) == 8);
  // The failed attempt's answer is kept with its error.
  auto failed_answer =
    std::find_if(journal->begin(), journal->end(), [](const journal_entry& e) {
      return e.kind == journal_kind::provider_answered && !e.ok;
    });
  REQUIRE(failed_answer != journal->end());
  CHECK(failed_answer->attempt == 1);
  CHECK(failed_answer->text.find("simulated failure") == 0);
  auto last_state = std::find_if(journal->rbegin(), journal->rend(),
                                 [](const journal_entry& e) {
                                   return e.kind == journal_kind::state_changed;
                                 });
  REQUIRE(last_state != journal->rend());
  CHECK(last_state->state == journey_state::completed);
}

TEST_CASE(
  "the journal of an ended journey is deleted when its retention is over") {
  engine_fixture fx{with_notify()};
  fx.retention_ms = 24 * 3600 * 1000;
  fx.close();
  fx.open(with_notify());
  fx.publish_example("order-to-invoice.json");
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1005")).status
          == submit_status::accepted);
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1001")).status
          == submit_status::accepted);
  fx.wait_terminal("SO-1005", invoice_flow);
  fx.wait_state("SO-1001", invoice_flow, journey_state::waiting);
  fx.engine->flush();
  CHECK(*fx.engine->expire_journals() == 0);
  CHECK_FALSE(fx.engine->journal("SO-1005", invoice_flow, 1)->empty());
  fx.clock->advance(24 * 3600 * 1000 + 1);
  // The hourly sweep runs on the same clock, so the advance may have it
  // expire the journal first: between them, exactly this one goes.
  CHECK(*fx.engine->expire_journals() <= 1);
  CHECK(fx.engine->journal("SO-1005", invoice_flow, 1)->empty());
  // The journey itself stays; a journey still running keeps its journal.
  CHECK(fx.engine->journeys("SO-1005")->front().state
        == journey_state::completed);
  CHECK_FALSE(fx.engine->journal("SO-1001", invoice_flow, 1)->empty());
}

TEST_CASE("orders accepted just before a stop all finish once the node opens "
          "again") {
  // The stop does not wait for journeys to get anywhere: those not begun
  // quit unrun, the others stop before what waits in their mailboxes. Each
  // resumes from what the store has. On the system clock: the manual one
  // moves whenever the engine looks idle, and a restored call's time limit
  // could run out before its answer comes.
  engine_fixture fx{with_notify(), true};
  fx.publish(R"({"name": "Tell", "type": "order", "steps": [
    {"action": "validate_order_header", "name": "Check"},
    {"action": "custom", "name": "Tell", "provider": "notify"}]})");
  constexpr std::size_t n = 2000;
  std::vector<std::string> batch;
  for (std::size_t i = 0; i < n; ++i)
    batch.push_back(
      R"({"id": "T-)" + std::to_string(i)
      + R"(", "lines": [{"id": "1", "sku": "S", "quantity": 1}]})");
  auto results = fx.engine->submit_batch(batch);
  REQUIRE(results.size() == n);
  for (const auto& r : results)
    REQUIRE(r.status == submit_status::accepted);
  fx.close();

  fx.open(with_notify());
  // None failed: a call cut off by the stop (its provider stopped with the
  // node) is not a failed attempt.
  for (std::size_t i = 0; i < n; ++i) {
    auto r = fx.wait_terminal("T-" + std::to_string(i), "Tell");
    INFO(to_json(r));
    CHECK(r.state == journey_state::completed);
  }
}
