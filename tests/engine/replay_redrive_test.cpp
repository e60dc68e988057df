// Replay of a journey's journal (on its own version and on another one) and
// redrive of a failed journey.

#include "support/engine_fixture.hpp"

using namespace orca;
using namespace orca::test;

namespace {

const char* invoice_flow = "Order to invoice";

std::multiset<std::tuple<std::string, std::string, int, uint32_t>>
steps_of(const journey_record& r) {
  std::multiset<std::tuple<std::string, std::string, int, uint32_t>> result;
  for (const auto& s : r.steps)
    result.emplace(s.name, s.path, static_cast<int>(s.outcome), s.attempts);
  return result;
}

const char* sample_flow = "Test Order flow sample";

/// Each path's steps in the order they ended there: how each ended, after
/// how many attempts and why. (Branches run side by side, so only the order
/// within a path is the journey's own.)
std::map<std::string, std::vector<std::string>>
by_path(const journey_record& r) {
  std::map<std::string, std::vector<std::string>> result;
  for (const auto& s : r.steps)
    result[s.path].push_back(s.name + " " + to_string(s.outcome) + " x"
                             + std::to_string(s.attempts) + " "
                             + s.error.value_or(""));
  return result;
}

std::vector<std::string> fulfillment_of(const journey_record& r) {
  std::vector<std::string> result;
  for (const auto& fo : r.fulfillment_orders) {
    auto line = fo.id + " " + fo.source + (fo.sent ? " sent:" : " unsent:");
    for (const auto& l : fo.lines)
      line += " " + l;
    result.push_back(line);
  }
  return result;
}

/// The replay of `order_id`'s journey comes to what the live run recorded.
void check_replay_agrees(Engine& engine, const std::string& order_id,
                         const std::string& flow) {
  INFO(order_id << " on " << flow);
  auto report = engine.replay(order_id, flow);
  REQUIRE(report);
  if (report->divergence)
    FAIL_CHECK(*report->divergence);
  CHECK(report->replayed.state == report->recorded.state);
  CHECK(by_path(report->replayed) == by_path(report->recorded));
  CHECK(fulfillment_of(report->replayed) == fulfillment_of(report->recorded));
  CHECK(report->replayed.invoice_id == report->recorded.invoice_id);
  CHECK_FALSE(report->timeline.empty());
}

std::vector<std::string> example_order_ids() {
  std::vector<std::string> ids;
  std::istringstream lines{example("orders.jsonl")};
  std::string line;
  while (std::getline(lines, line))
    if (!line.empty())
      ids.push_back(order::parse(line)->id());
  return ids;
}

} // namespace

TEST_CASE("replay and the live run agree on each held example") {
  simulated_config flaky;
  flaky.fail_first_attempts = 2;
  engine_fixture fx{with_notify({{"fulfillment", flaky}})};
  fx.publish_example("order-to-invoice.json");
  fx.publish_example("test-order-flow-sample.json");
  auto ids = example_order_ids();
  REQUIRE(ids.size() == 5);
  for (const auto& id : ids)
    REQUIRE(fx.submit(engine_fixture::example_order(id)).status
            == submit_status::accepted);
  std::vector<std::string> shipped_later;
  for (const auto& id : ids) {
    auto r = fx.wait_for(id, invoice_flow, [](const journey_record& j) {
      return is_terminal(j.state) || j.state == journey_state::waiting;
    });
    if (r.state == journey_state::waiting)
      shipped_later.push_back(id);
  }
  REQUIRE(shipped_later.size() == 3);
  // Ship it ran three times for each of SO-1001 and SO-1004.
  CHECK(fx.engine->simulated_calls("fulfillment")->size() == 6);
  // A node restart while journeys wait: they come back from the store, and
  // the replay must restore them as the node did.
  fx.engine->flush();
  fx.close();
  fx.open(with_notify({{"fulfillment", flaky}}));
  for (const auto& id : shipped_later)
    REQUIRE_FALSE(fx.engine->event(id, "fulfillment_shipped"));
  for (const auto& id : ids) {
    fx.wait_terminal(id, invoice_flow);
    fx.wait_terminal(id, sample_flow);
  }
  fx.engine->flush();
  for (const auto& id : ids) {
    check_replay_agrees(*fx.engine, id, invoice_flow);
    check_replay_agrees(*fx.engine, id, sample_flow);
  }
  // Nothing was sent since the restart, by the journeys or the replays.
  CHECK(fx.engine->simulated_calls("fulfillment")->size() == 0);
}

namespace {

/// A split whose "Ship" branch sends to fulfillment on the side of a
/// condition, then bills once shipped on the side of another condition
/// within it; its other branch notifies.
const char* branch_sides_flow = R"({
  "name": "Branch sides", "type": "order",
  "policies": {"execution": [
    {"name": "One warehouse", "kind": "fulfillment_source", "rules": [],
     "default_source": "WH-1"}]},
  "steps": [
    {"element": "splitter_merge", "name": "Both", "branches": [
      {"name": "Ship", "steps": [
        {"action": "assign_fulfillment_source", "name": "Pick",
         "execution_policies": ["One warehouse"]},
        {"element": "condition_merge", "name": "Picked?",
         "yes": [
           {"action": "send_to_fulfillment", "name": "Send",
            "retry": {"max_attempts": 5, "backoff_ms": 10}},
           {"element": "condition_merge", "name": "Sent?",
            "yes": [
              {"action": "send_to_invoice", "name": "Bill",
               "input_events": ["fulfillment_shipped"]}],
            "no": [
              {"action": "custom", "name": "Tell", "provider": "notify"}]}],
         "no": [
           {"action": "custom", "name": "Undo", "provider": "notify"}]}]},
      {"name": "Note", "steps": [
        {"action": "custom", "name": "Note", "provider": "notify"}]}]}
  ]})";

} // namespace

TEST_CASE("replay and the live run agree on the sides of a branch's "
          "conditions, across a restart") {
  auto passivate = GENERATE(true, false);
  INFO((passivate ? "waiting in the store" : "waiting in memory"));
  simulated_config flaky;
  flaky.fail_first_attempts = 2;
  engine_fixture fx{with_notify({{"fulfillment", flaky}}), false, passivate};
  fx.publish(branch_sides_flow);
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1001")).status
          == submit_status::accepted);
  // Send backs off twice, then is sent; Bill waits for the shipment, two
  // sides deep in the branch.
  auto waiting =
    fx.wait_state("SO-1001", "Branch sides", journey_state::waiting);
  REQUIRE(step_named(waiting, "Send") != nullptr);
  CHECK(step_named(waiting, "Send")->attempts == 3);
  CHECK(fx.engine->simulated_calls("fulfillment")->size() == 3);
  fx.engine->flush();
  fx.close();
  fx.open(with_notify({{"fulfillment", flaky}}));
  REQUIRE_FALSE(fx.engine->event("SO-1001", "fulfillment_shipped"));
  auto done = fx.wait_terminal("SO-1001", "Branch sides");
  CHECK(done.state == journey_state::completed);
  REQUIRE(done.fulfillment_orders.size() == 1);
  CHECK(done.fulfillment_orders[0].sent);
  CHECK(done.invoice_id.has_value());
  fx.engine->flush();
  check_replay_agrees(*fx.engine, "SO-1001", "Branch sides");
  // Nothing was sent again after the restart.
  CHECK(fx.engine->simulated_calls("fulfillment")->size() == 0);
}

TEST_CASE("a redrive leaves behind a failed side whose failure a condition "
          "handled") {
  // "Risky" fails its side; the condition after "Go?" handles that, and
  // takes its "no" side, where "Later" fails the journey. The redrive
  // starts "Later" again, and not "Risky", whose failure was handled.
  const char* flow = R"({
    "name": "Handled", "type": "order",
    "steps": [
      {"action": "custom", "name": "Start", "provider": "notify"},
      {"element": "condition_merge", "name": "Go?",
       "yes": [{"action": "custom", "name": "Risky", "provider": "broken"}],
       "no": [{"action": "custom", "name": "Skip", "provider": "notify"}]},
      {"element": "condition_merge", "name": "Went?",
       "yes": [{"action": "custom", "name": "Fine", "provider": "notify"}],
       "no": [{"action": "custom", "name": "Later", "provider": "later"}]},
      {"action": "custom", "name": "Finish", "provider": "notify",
       "input_events": ["done"]}
    ]})";
  simulated_config broken;
  broken.fail_first_attempts = 100;
  engine_fixture fx{with_notify({{"broken", broken}, {"later", broken}})};
  fx.publish(flow);
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1001")).status
          == submit_status::accepted);
  auto failed = fx.wait_terminal("SO-1001", "Handled");
  REQUIRE(failed.state == journey_state::failed);
  CHECK(step_named(failed, "Risky")->outcome == step_outcome::failed);
  CHECK(step_named(failed, "Go?")->outcome == step_outcome::failed);
  CHECK(step_named(failed, "Later")->outcome == step_outcome::failed);
  REQUIRE_FALSE(fx.engine->register_provider("later", provider_config{}));
  REQUIRE(fx.engine->redrive("SO-1001", std::nullopt));
  // With "Risky" brought back, a path that nothing runs would keep the
  // journey running.
  auto waiting = fx.wait_state("SO-1001", "Handled", journey_state::waiting);
  CHECK(std::count_if(waiting.steps.begin(), waiting.steps.end(),
                      [](const step_entry& s) { return s.name == "Risky"; })
        == 1);
  REQUIRE_FALSE(fx.engine->event("SO-1001", "done"));
  CHECK(fx.wait_terminal("SO-1001", "Handled").state
        == journey_state::completed);
  CHECK(fx.engine->simulated_calls("broken")->size() == 1);
  fx.engine->flush();
  check_replay_agrees(*fx.engine, "SO-1001", "Handled");
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
  CHECK(step_named(failed, "Ship it")->error_code == "provider_failure");
  CHECK(to_json(failed).find(R"("outcome":"failed","attempts":5,)")
        != std::string::npos);
  CHECK(to_json(failed).find(R"("error_code":"provider_failure")")
        != std::string::npos);
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
    check_replay_agrees(*fx.engine, "SO-1001", invoice_flow);
  }
  SECTION("a replay goes through every run of a journey redriven twice") {
    // The first redrive fails again on the same broken provider; the second
    // comes after it recovers.
    REQUIRE(fx.engine->redrive("SO-1001", std::nullopt));
    fx.wait_for("SO-1001", invoice_flow, [](const auto& r) {
      return r.state == journey_state::failed && r.steps.size() > 4
        && std::count_if(r.steps.begin(), r.steps.end(),
                         [](const auto& s) { return s.name == "Ship it"; })
        == 2;
    });
    REQUIRE_FALSE(
      fx.engine->register_provider("fulfillment", provider_config{}));
    REQUIRE(fx.engine->redrive("SO-1001", std::nullopt));
    fx.wait_state("SO-1001", invoice_flow, journey_state::waiting);
    REQUIRE_FALSE(fx.engine->event("SO-1001", "fulfillment_shipped"));
    CHECK(fx.wait_terminal("SO-1001", invoice_flow).state
          == journey_state::completed);
    fx.engine->flush();
    check_replay_agrees(*fx.engine, "SO-1001", invoice_flow);
    auto report = fx.engine->replay("SO-1001", std::nullopt);
    REQUIRE(report);
    std::vector<std::pair<step_outcome, uint32_t>> ships;
    for (const auto& s : report->replayed.steps)
      if (s.name == "Ship it")
        ships.emplace_back(s.outcome, s.attempts);
    CHECK(ships
          == std::vector<std::pair<step_outcome, uint32_t>>{
            {step_outcome::failed, 5u},
            {step_outcome::failed, 5u},
            {step_outcome::succeeded, 1u}});
    CHECK(report->replayed.state == journey_state::completed);
  }
}

TEST_CASE("replay and the live run agree through a pause, a resume and a "
          "cancel") {
  // Journeys that wait in memory hear the pause and the resume; those that
  // wait in the store hear of them when they come back.
  auto in_memory = GENERATE(true, false);
  INFO((in_memory ? "waiting in memory" : "waiting in the store"));
  engine_fixture fx{with_notify(), false, !in_memory};
  fx.publish_example("order-to-invoice.json");
  for (const auto* id : {"SO-1001", "SO-1004"})
    REQUIRE(fx.submit(engine_fixture::example_order(id)).status
            == submit_status::accepted);
  fx.wait_state("SO-1001", invoice_flow, journey_state::waiting);
  fx.wait_state("SO-1004", invoice_flow, journey_state::waiting);
  if (!in_memory)
    fx.wait_passivated(invoice_flow, 1, 2); // in the store, not on their way
  // While the flow is paused, SO-1001's event arrives (its journey takes
  // it in but holds, paused) and SO-1004 is cancelled.
  REQUIRE_FALSE(fx.engine->pause_flow(invoice_flow));
  REQUIRE_FALSE(fx.engine->event("SO-1001", "fulfillment_shipped"));
  REQUIRE_FALSE(fx.engine->cancel("SO-1004"));
  CHECK(fx.wait_terminal("SO-1004", invoice_flow).state
        == journey_state::cancelled);
  auto kinds_of = [&](const char* id) {
    std::multiset<std::string> kinds;
    fx.engine->flush();
    if (auto j = fx.engine->journal(id, invoice_flow, 1))
      for (const auto& e : *j)
        kinds.insert(to_string(e.kind));
    return kinds;
  };
  REQUIRE(eventually(
    [&] { return kinds_of("SO-1001").count("event_received") == 1; }));
  // The watcher hears of the commit on the subscribers' thread, a moment
  // after the journal has it.
  auto held = [&] {
    auto r = fx.watch.find("SO-1001", invoice_flow);
    return r && r->state == journey_state::paused;
  };
  eventually(held);
  CHECK(fx.watch.find("SO-1001", invoice_flow)->state == journey_state::paused);
  REQUIRE_FALSE(fx.engine->resume_flow(invoice_flow));
  CHECK(fx.wait_terminal("SO-1001", invoice_flow).state
        == journey_state::completed);
  fx.engine->flush();
  // The same outcome, and the same course: the replay holds where the
  // live journey held.
  auto states = [](const std::vector<timeline_entry>& timeline) {
    std::vector<std::string> result;
    for (const auto& e : timeline)
      if (e.kind == "state_changed")
        result.push_back(e.detail);
    return result;
  };
  for (const auto* id : {"SO-1001", "SO-1004"}) {
    INFO(id);
    check_replay_agrees(*fx.engine, id, invoice_flow);
    auto report = fx.engine->replay(id, std::string{invoice_flow});
    REQUIRE(report);
    CHECK(states(report->timeline)
          == states(*fx.engine->timeline(id, invoice_flow, 1)));
  }
  auto course = fx.engine->replay("SO-1001", std::string{invoice_flow});
  CHECK(states(course->timeline)
        == std::vector<std::string>{"journey is waiting", "journey is paused",
                                    "journey is running",
                                    "journey is completed"});
  // The live journal of SO-1001 holds what the replay had to go through.
  auto kinds = kinds_of("SO-1001");
  // One in the store was not there to hear the pause; the event woke it
  // while the flow was paused, so it heard the resume.
  CHECK(kinds.count("paused") == (in_memory ? 1 : 0));
  CHECK(kinds.count("unpaused") == 1);
}
