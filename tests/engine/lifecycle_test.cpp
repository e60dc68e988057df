// Flow lifecycle operations as they touch running journeys (SPEC §2.4), and
// intake rules (§2.3): duplicates, several flows, malformed orders.

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include <caf/all.hpp>

#include "actors/journey_protocol.hpp"
#include "actors/supervisor.hpp"
#include "support/engine_fixture.hpp"

using namespace orca;
using namespace orca::test;

namespace {

const char* invoice_flow = "Order to invoice";

/// A one-step flow: a custom call to `provider` named `step`.
std::string one_step_flow(const std::string& name, const std::string& step,
                          const std::string& provider = "notify") {
  return R"({"name": ")" + name + R"(", "type": "order", "steps": [
    {"action": "custom", "name": ")"
    + step + R"(", "provider": ")" + provider + R"("}]})";
}

/// Publishes order-to-invoice, pauses it and submits example order `id`,
/// whose journey is then held.
void hold_order(engine_fixture& fx, const std::string& id) {
  fx.publish_example("order-to-invoice.json");
  REQUIRE_FALSE(fx.engine->pause_flow(invoice_flow));
  REQUIRE(fx.submit(engine_fixture::example_order(id)).status
          == submit_status::accepted);
  fx.wait_state(id, invoice_flow, journey_state::paused);
}

/// Waits until `n` journeys of a flow version are held by a pause (the
/// supervisor hears of it from its journeys, a moment after they save).
bool held_becomes(engine_fixture& fx, const std::string& flow, uint32_t version,
                  std::size_t n) {
  return eventually([&] {
    auto held = fx.engine->held_journeys(flow, version);
    return held && *held == n;
  });
}

} // namespace

TEST_CASE("a duplicate order is reported and not processed again") {
  engine_fixture fx{with_notify()};
  fx.publish(one_step_flow("Notify", "Tell"));
  auto first = fx.submit(minimal_order("D-1"));
  CHECK(first.status == submit_status::accepted);
  CHECK(first.order_id == "D-1");
  fx.wait_terminal("D-1", "Notify");
  auto again = fx.submit(minimal_order("D-1"));
  CHECK(again.status == submit_status::duplicate);
  CHECK(again.order_id == "D-1");
  SECTION("also within one batch") {
    auto results =
      fx.engine->submit_batch({minimal_order("D-2"), minimal_order("D-2")});
    CHECK(results[0].status == submit_status::accepted);
    CHECK(results[1].status == submit_status::duplicate);
    fx.wait_terminal("D-2", "Notify");
  }
  fx.engine->flush();
  auto log = fx.engine->simulated_calls("notify");
  for (const auto& [key, n] : log->successes())
    CHECK(n == 1);
  auto journeys = fx.engine->journeys("D-1");
  REQUIRE(journeys);
  CHECK(journeys->size() == 1);
}

TEST_CASE(
  "a malformed order is rejected with the field named and others go on") {
  engine_fixture fx{with_notify()};
  fx.publish(one_step_flow("Notify", "Tell"));
  auto results = fx.engine->submit_batch(
    {minimal_order("M-1"),
     R"({"id": "M-2", "lines": [{"id": "1"}, {"id": "1"}]})", "not json",
     minimal_order("M-3")});
  CHECK(results[0].status == submit_status::accepted);
  CHECK(results[1].status == submit_status::rejected);
  CHECK(results[1].error
        == "order \"M-2\": lines[1].id: duplicate line id \"1\"");
  CHECK(results[2].status == submit_status::rejected);
  CHECK(results[2].error.find("order is not valid JSON") == 0);
  CHECK(results[3].status == submit_status::accepted);
  CHECK(fx.wait_terminal("M-1", "Notify").state == journey_state::completed);
  CHECK(fx.wait_terminal("M-3", "Notify").state == journey_state::completed);
}

TEST_CASE("every published flow starts its own journey for an order") {
  engine_fixture fx{with_notify()};
  fx.publish(one_step_flow("First", "One"));
  fx.publish(one_step_flow("Second", "Two"));
  REQUIRE(fx.engine->create_flow(one_step_flow("Draft", "Three")));
  REQUIRE(fx.submit(minimal_order("T-1")).status == submit_status::accepted);
  CHECK(fx.wait_terminal("T-1", "First").state == journey_state::completed);
  CHECK(fx.wait_terminal("T-1", "Second").state == journey_state::completed);
  auto journeys = fx.engine->journeys("T-1");
  REQUIRE(journeys);
  CHECK(journeys->size() == 2);
  auto keys = fx.engine->simulated_calls("notify")->successes();
  CHECK(keys.count("T-1/First/1/One") == 1);
  CHECK(keys.count("T-1/Second/1/Two") == 1);
}

TEST_CASE("a batch starts the journeys of its accepted orders on every flow, "
          "and only those") {
  engine_fixture fx{with_notify()};
  fx.publish(one_step_flow("First", "One"));
  fx.publish(one_step_flow("Second", "Two"));
  REQUIRE(fx.submit(minimal_order("B-0")).status == submit_status::accepted);
  fx.wait_terminal("B-0", "First");
  fx.wait_terminal("B-0", "Second");
  auto results = fx.engine->submit_batch(
    {minimal_order("B-1"), "{not json", minimal_order("B-0"),
     minimal_order("B-2"), minimal_order("B-1")});
  REQUIRE(results.size() == 5);
  CHECK(results[0].status == submit_status::accepted);
  CHECK(results[1].status == submit_status::rejected);
  CHECK(results[2].status == submit_status::duplicate);
  CHECK(results[3].status == submit_status::accepted);
  CHECK(results[4].status == submit_status::duplicate);
  for (const auto* id : {"B-1", "B-2"})
    for (const auto* flow : {"First", "Second"}) {
      INFO(id << " on " << flow);
      CHECK(fx.wait_terminal(id, flow).state == journey_state::completed);
    }
  // Each journey ran once, on its own order: the duplicates started none.
  auto keys = fx.engine->simulated_calls("notify")->successes();
  CHECK(keys.size() == 6);
  for (const auto* id : {"B-0", "B-1", "B-2"}) {
    CHECK(keys.count(std::string{id} + "/First/1/One") == 1);
    CHECK(keys.count(std::string{id} + "/Second/1/Two") == 1);
  }
}

TEST_CASE(
  "pause holds journeys at the next step boundary and resume continues") {
  engine_fixture fx{with_notify()};
  fx.publish_example("order-to-invoice.json");
  REQUIRE_FALSE(fx.engine->pause_flow(invoice_flow));
  SECTION("a new order becomes a paused journey") {
    REQUIRE(fx.submit(engine_fixture::example_order("SO-1004")).status
            == submit_status::accepted);
    auto held = fx.wait_state("SO-1004", invoice_flow, journey_state::paused);
    CHECK(held.steps.empty());
    REQUIRE_FALSE(fx.engine->resume_flow(invoice_flow));
    auto waiting =
      fx.wait_state("SO-1004", invoice_flow, journey_state::waiting);
    CHECK(step_named(waiting, "Ship it")->outcome == step_outcome::succeeded);
    // A replay starts it held too, and runs the same steps.
    REQUIRE_FALSE(fx.engine->event("SO-1004", "fulfillment_shipped"));
    fx.wait_terminal("SO-1004", invoice_flow);
    auto replay = fx.engine->replay("SO-1004", std::nullopt, std::nullopt);
    REQUIRE(replay);
    CHECK_FALSE(replay->divergence);
    CHECK(replay->replayed.state == journey_state::completed);
  }
  SECTION("a call in flight finishes and its result waits") {
    REQUIRE_FALSE(fx.engine->resume_flow(invoice_flow));
    simulated_config slow;
    slow.latency_ms = 500;
    provider_config p;
    p.simulated = slow;
    REQUIRE_FALSE(fx.engine->register_provider("fulfillment", p));
    REQUIRE(fx.submit(engine_fixture::example_order("SO-1004")).status
            == submit_status::accepted);
    fx.wait_for("SO-1004", invoice_flow, [](const journey_record& r) {
      return r.fulfillment_orders.size() == 1;
    });
    REQUIRE_FALSE(fx.engine->pause_flow(invoice_flow));
    auto held = fx.wait_state("SO-1004", invoice_flow, journey_state::paused);
    // The call's result is recorded (and the merge it completes), but the
    // next step does not start.
    CHECK(step_named(held, "Ship it")->outcome == step_outcome::succeeded);
    CHECK_FALSE(step_named(held, "Bill it"));
    REQUIRE_FALSE(fx.engine->resume_flow(invoice_flow));
    auto waiting =
      fx.wait_state("SO-1004", invoice_flow, journey_state::waiting);
    CHECK(waiting.waiting_for
          == std::vector<std::string>{"fulfillment_shipped"});
  }
  SECTION("a waiting journey holds when its event comes while paused") {
    REQUIRE_FALSE(fx.engine->resume_flow(invoice_flow));
    REQUIRE(fx.submit(engine_fixture::example_order("SO-1004")).status
            == submit_status::accepted);
    fx.wait_state("SO-1004", invoice_flow, journey_state::waiting);
    REQUIRE_FALSE(fx.engine->pause_flow(invoice_flow));
    REQUIRE_FALSE(fx.engine->event("SO-1004", "fulfillment_shipped"));
    auto held = fx.wait_state("SO-1004", invoice_flow, journey_state::paused);
    CHECK_FALSE(step_named(held, "Bill it"));
    CHECK(fx.engine->simulated_calls("billing")->size() == 0);
    REQUIRE_FALSE(fx.engine->resume_flow(invoice_flow));
    auto done = fx.wait_terminal("SO-1004", invoice_flow);
    CHECK(done.state == journey_state::completed);
    CHECK(done.invoice_id == std::optional<std::string>{"INV-SO-1004"});
    auto replay = fx.engine->replay("SO-1004", std::nullopt, std::nullopt);
    REQUIRE(replay);
    CHECK_FALSE(replay->divergence);
    CHECK(replay->replayed.state == journey_state::completed);
  }
}

TEST_CASE(
  "stop starts no new journeys and running ones finish on their version") {
  engine_fixture fx{with_notify()};
  fx.publish_example("order-to-invoice.json");
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1001")).status
          == submit_status::accepted);
  fx.wait_state("SO-1001", invoice_flow, journey_state::waiting);
  REQUIRE_FALSE(fx.engine->stop_flow(invoice_flow));
  CHECK(fx.engine->get_flow(invoice_flow)->status == flow_status::unpublished);
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1002")).status
          == submit_status::accepted);
  REQUIRE_FALSE(fx.engine->event("SO-1001", "fulfillment_shipped"));
  CHECK(fx.wait_terminal("SO-1001", invoice_flow).state
        == journey_state::completed);
  fx.wait_running(invoice_flow, 1, 0);
  auto none = fx.engine->journeys("SO-1002");
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE(
  "stop clears a pause: held journeys finish and a republished flow runs") {
  engine_fixture fx{with_notify()};
  hold_order(fx, "SO-1004");
  REQUIRE_FALSE(fx.engine->stop_flow(invoice_flow));
  CHECK_FALSE(fx.engine->get_flow(invoice_flow)->paused);
  // The held journey goes on to finish on its version.
  fx.wait_state("SO-1004", invoice_flow, journey_state::waiting);
  // Only a paused flow can be resumed.
  auto resumed = fx.engine->resume_flow(invoice_flow);
  CHECK(resumed == errc::flow_not_paused);
  // Republished, it runs new orders at once.
  REQUIRE(fx.engine->publish_flow(invoice_flow));
  CHECK_FALSE(fx.engine->get_flow(invoice_flow)->paused);
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1001")).status
          == submit_status::accepted);
  fx.wait_state("SO-1001", invoice_flow, journey_state::waiting);
}

TEST_CASE("stop with cancel-in-flight cancels held journeys of a paused flow") {
  engine_fixture fx{with_notify()};
  hold_order(fx, "SO-1004");
  REQUIRE_FALSE(fx.engine->stop_flow(invoice_flow, true));
  auto r = fx.wait_terminal("SO-1004", invoice_flow);
  CHECK(r.state == journey_state::cancelled);
  CHECK(r.steps.empty());
}

TEST_CASE("stop with cancel-in-flight cancels running journeys") {
  engine_fixture fx{with_notify()};
  fx.publish_example("order-to-invoice.json");
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1001")).status
          == submit_status::accepted);
  fx.wait_state("SO-1001", invoice_flow, journey_state::waiting);
  REQUIRE_FALSE(fx.engine->stop_flow(invoice_flow, true));
  CHECK(fx.wait_terminal("SO-1001", invoice_flow).state
        == journey_state::cancelled);
  fx.wait_running(invoice_flow, 1, 0);
}

TEST_CASE("orders whose intake crosses a stop with cancel-in-flight are "
          "cancelled too") {
  engine_fixture fx{with_notify()};
  fx.publish(R"({"name": "Hold", "type": "order", "steps": [
    {"action": "custom", "name": "Wait", "provider": "notify",
     "input_events": ["go"]}]})");
  // Batches go in while the stop comes: some were taken for the flow before
  // the stop and stored after it. Every journey of the flow must end
  // cancelled; none may be left waiting.
  std::atomic<bool> stopped{false};
  std::atomic<int> batches{0};
  std::thread intake([&] {
    int after_stop = 0;
    for (int b = 0; after_stop < 3; ++b) {
      if (stopped)
        ++after_stop;
      std::vector<std::string> orders;
      for (int i = 0; i < 200; ++i)
        orders.push_back(R"({"id": "X-)" + std::to_string(b) + "-"
                         + std::to_string(i) + R"(", "lines": []})");
      fx.engine->submit_batch(orders);
      batches = b;
    }
  });
  REQUIRE(eventually([&] { return batches >= 3; }));
  REQUIRE_FALSE(fx.engine->stop_flow("Hold", true));
  stopped = true;
  intake.join();
  std::size_t open = 0;
  eventually(
    [&] {
      journey_query of_hold;
      of_hold.flow = "Hold";
      auto all = fx.engine->list_journeys(of_hold);
      open = !all
        ? 1
        : std::count_if(all->begin(), all->end(), [](const journey_record& r) {
            return r.state != journey_state::cancelled;
          });
      return open == 0;
    },
    std::chrono::seconds(10), std::chrono::milliseconds(10));
  CHECK(open == 0);
}

TEST_CASE("republish sends new orders to the new version and running journeys "
          "finish on theirs") {
  engine_fixture fx{with_notify()};
  auto v1 = fx.publish_example("order-to-invoice.json");
  CHECK(v1 == 1);
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1001")).status
          == submit_status::accepted);
  fx.wait_state("SO-1001", invoice_flow, journey_state::waiting, 1);
  REQUIRE_FALSE(fx.engine->stop_flow(invoice_flow));
  // Version 2 bills at once, without waiting for shipping.
  auto text = example("order-to-invoice.json");
  auto wait = text.find(R"(, "input_events": ["fulfillment_shipped"])");
  REQUIRE(wait != std::string::npos);
  text.erase(
    wait, std::string{R"(, "input_events": ["fulfillment_shipped"])"}.size());
  REQUIRE(fx.engine->update_flow(text, "v2.json"));
  auto v2 = fx.engine->publish_flow(invoice_flow);
  REQUIRE(v2);
  CHECK(*v2 == 2);
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1004")).status
          == submit_status::accepted);
  auto new_one = fx.wait_terminal("SO-1004", invoice_flow);
  CHECK(new_one.version == 2);
  CHECK(new_one.state == journey_state::completed);
  auto old_one = fx.watch.find("SO-1001", invoice_flow, 1);
  REQUIRE(old_one);
  CHECK(old_one->state == journey_state::waiting);
  REQUIRE_FALSE(fx.engine->event("SO-1001", "fulfillment_shipped"));
  auto finished = fx.wait_terminal("SO-1001", invoice_flow, 1);
  CHECK(finished.version == 1);
  CHECK(finished.state == journey_state::completed);
  auto all = fx.engine->journeys("SO-1001");
  REQUIRE(all);
  CHECK(all->size() == 1);
}

TEST_CASE("a journey whose actor dies is recorded as failed with the reason") {
  // Without passivation, so that the waiting journey has an actor to kill.
  engine_fixture fx{with_notify(), false, false};
  fx.publish_example("order-to-invoice.json");
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1001")).status
          == submit_status::accepted);
  fx.wait_state("SO-1001", invoice_flow, journey_state::waiting);
  auto sup = fx.engine->supervisor_of(invoice_flow, 1);
  REQUIRE(sup);
  caf::scoped_actor self{fx.engine->system()};
  caf::actor journey;
  self
    ->request(sup, std::chrono::seconds(5), journey_atom::value,
              std::string{"SO-1001"})
    .receive([&](caf::actor& a) { journey = a; },
             [&](caf::error& err) { FAIL(describe(err)); });
  REQUIRE(journey);
  self->send_exit(journey, caf::exit_reason::kill);
  auto r = fx.wait_terminal("SO-1001", invoice_flow);
  CHECK(r.state == journey_state::failed);
  REQUIRE(r.error);
  CHECK(r.error->find("the journey's actor died: ") == 0);
  // What it had done before is kept.
  CHECK(step_named(r, "Ship it"));
  fx.wait_running(invoice_flow, 1, 0);
}

TEST_CASE("events for an unknown order are refused") {
  engine_fixture fx{with_notify()};
  auto err = fx.engine->event("NOPE", "fulfillment_shipped");
  CHECK(err == errc::no_such_order);
  CHECK(describe(err) == "no order \"NOPE\" on this node");
  CHECK(fx.engine->event("NOPE", "") == errc::invalid_argument);
}

namespace {

/// Publishes `flow_json` (a flow named "Cancel"), submits an order and
/// cancels it while the provider call of step `blocked` is in flight; the
/// answer comes once the cancel has reached the journey. Returns the
/// journey's last record.
journey_record cancel_during(const std::string& flow_json,
                             const std::string& blocked,
                             const std::string& order_id) {
  engine_fixture fx{with_notify()};
  fx.publish(flow_json);
  std::promise<void> calling;
  std::promise<void> release;
  auto released = release.get_future().share();
  fx.engine->register_embedded_provider(
    "notify", [&calling, &blocked, released](const provider_request& req) {
      if (req.step == blocked) {
        calling.set_value();
        released.wait();
      }
      provider_reply r;
      r.ok = true;
      return r;
    });
  REQUIRE(fx.submit(minimal_order(order_id)).status == submit_status::accepted);
  calling.get_future().wait();
  REQUIRE_FALSE(fx.engine->cancel(order_id));
  fx.engine->flush();
  // The cancel is committed; once the journey has it (its journal says so)
  // the answer may come.
  REQUIRE(eventually([&] {
    auto journal = fx.engine->journal(order_id, "Cancel", 1);
    return journal
      && std::any_of(journal->begin(), journal->end(),
                     [](const journal_entry& e) {
                       return e.kind == journal_kind::cancel_requested;
                     });
  }));
  release.set_value();
  auto r = fx.wait_terminal(order_id, "Cancel");
  // A cancel after the end changes nothing either.
  REQUIRE_FALSE(fx.engine->cancel(order_id));
  fx.engine->flush();
  auto stored = fx.engine->journeys(order_id);
  REQUIRE(stored);
  CHECK(stored->front().state == r.state);
  return r;
}

std::string two_steps() {
  return R"({"name": "Cancel", "type": "order", "steps": [
    {"action": "custom", "name": "First", "provider": "notify"},
    {"action": "custom", "name": "Last", "provider": "notify"}]})";
}

} // namespace

TEST_CASE("a cancel during a step stops the journey before the next one") {
  auto r = cancel_during(two_steps(), "First", "CANCEL-1");
  CHECK(r.state == journey_state::cancelled);
  REQUIRE(r.steps.size() == 1);
  CHECK(r.steps[0].name == "First");
}

TEST_CASE(
  "a cancel during the last step leaves the journey's outcome as it is") {
  auto r = cancel_during(two_steps(), "Last", "CANCEL-2");
  CHECK(r.state == journey_state::completed);
  CHECK(r.steps.size() == 2);
}

TEST_CASE("a cancel that cuts a branch short cancels the journey, even when "
          "the merge is last") {
  auto r = cancel_during(R"({"name": "Cancel", "type": "order", "steps": [
    {"element": "splitter_merge", "name": "Fan", "branches": [
      {"name": "A", "steps": [
        {"action": "custom", "name": "A1", "provider": "notify"},
        {"action": "custom", "name": "A2", "provider": "notify"}]},
      {"name": "B", "steps": [
        {"action": "custom", "name": "B1", "provider": "notify"}]}]}]})",
                         "A1", "CANCEL-3");
  CHECK(r.state == journey_state::cancelled);
  CHECK(step_named(r, "A1"));
  CHECK_FALSE(step_named(r, "A2"));
}

TEST_CASE("a paused flow is changed and republished: journeys that started no "
          "step move to it") {
  engine_fixture fx{with_notify()};
  auto flow_with = [](const std::string& first) {
    return R"({"name": "Change", "type": "order", "steps": [
      {"action": "custom", "name": ")"
      + first + R"(", "provider": "notify"},
      {"action": "custom", "name": "After go", "provider": "notify",
       "input_events": ["go"]}]})";
  };
  REQUIRE(fx.publish(flow_with("First")) == 1);
  // Started before the pause: it ran a step and waits.
  REQUIRE(fx.submit(minimal_order("C-1")).status == submit_status::accepted);
  fx.wait_state("C-1", "Change", journey_state::waiting);
  REQUIRE_FALSE(fx.engine->pause_flow("Change"));
  // Came during the pause: held before its first step.
  REQUIRE(fx.submit(minimal_order("C-2")).status == submit_status::accepted);
  fx.wait_state("C-2", "Change", journey_state::paused, 1);

  auto updated = fx.engine->update_flow(flow_with("First, again"), "v2.json");
  REQUIRE(updated);
  auto v2 = fx.engine->publish_flow("Change");
  REQUIRE(v2);
  CHECK(*v2 == 2);
  auto flows = fx.engine->list_flows();
  REQUIRE(flows);
  REQUIRE(flows->size() == 1);
  CHECK(flows->front().status == flow_status::published);
  CHECK(flows->front().paused);
  // New orders go to version 2, held too.
  REQUIRE(fx.submit(minimal_order("C-3")).status == submit_status::accepted);
  fx.wait_state("C-3", "Change", journey_state::paused, 2);
  fx.engine->flush();
  CHECK(fx.engine->journeys("C-1")->front().version == 1);
  // One held on each version (C-1 waits for its event: not held).
  CHECK(held_becomes(fx, "Change", 1, 1));
  CHECK(held_becomes(fx, "Change", 2, 1));

  REQUIRE_FALSE(fx.engine->resume_flow("Change"));
  for (const auto* id : {"C-2", "C-3"})
    REQUIRE_FALSE(fx.engine->event(id, "go"));
  for (const auto* id : {"C-2", "C-3"}) {
    auto r = fx.wait_terminal(id, "Change", 2);
    CHECK(r.state == journey_state::completed);
    REQUIRE(r.steps.size() == 2);
    CHECK(r.steps[0].name == "First, again");
    auto all = fx.engine->journeys(id);
    REQUIRE(all);
    CHECK(all->size() == 1); // nothing left on version 1
  }
  // The one that had started finishes on its version.
  fx.engine->flush();
  auto c1 = fx.engine->journeys("C-1");
  REQUIRE(c1);
  REQUIRE(c1->size() == 1);
  CHECK(c1->front().version == 1);
  CHECK(c1->front().state == journey_state::waiting);
  REQUIRE_FALSE(fx.engine->event("C-1", "go"));
  auto r = fx.wait_terminal("C-1", "Change", 1);
  CHECK(r.state == journey_state::completed);
  CHECK(r.steps[0].name == "First");
  CHECK(held_becomes(fx, "Change", 1, 0));
  CHECK(held_becomes(fx, "Change", 2, 0));
}

TEST_CASE("a flow's resolved draft holds the library policies publish would "
          "freeze") {
  engine_fixture fx;
  REQUIRE(fx.engine->put_policies(R"({"filter": [
    {"name": "Retail", "scope": "header",
     "when": {"field": "channel", "op": "ne", "value": "b2b"}}]})"));
  const char* uses_library = R"({"name": "Lib", "type": "order", "steps": [
    {"action": "validate_order_header", "name": "Check",
     "filter_policies": ["Retail"]}]})";
  REQUIRE(fx.engine->create_flow(uses_library, "lib.json"));
  auto resolved = fx.engine->resolved_draft("Lib");
  REQUIRE(resolved);
  auto parsed = parse_flow(*resolved);
  REQUIRE(parsed.errors.empty());
  REQUIRE(parsed.model->filters.size() == 1);
  CHECK(parsed.model->filters[0].name == "Retail");
  // Published and unchanged since, it has no draft.
  REQUIRE(fx.engine->publish_flow("Lib"));
  auto none = fx.engine->resolved_draft("Lib");
  REQUIRE_FALSE(none);
  CHECK(describe(none.error()) == "flow \"Lib\" has no draft");
  CHECK_FALSE(fx.engine->resolved_draft("Nope"));
}
