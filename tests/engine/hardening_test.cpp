// What must hold whatever comes in or goes wrong: acknowledged events reach
// parked journeys across a restart, a full store refuses intake without
// losing what it took, busy intake refuses instead of growing, a client
// cannot take over a provider the node runs, and a failed write stays with
// its request.

#include <future>

#include <caf/scoped_actor.hpp>

#include "support/engine_fixture.hpp"
#include "support/lmdb_surgery.hpp"

#include "engine/subscribers.hpp"
#include "persistence/records.hpp"

using namespace orca;
using namespace orca::test;

namespace {

const char* invoice_flow = "Order to invoice";

/// Adds `type` to the stored order, as an acknowledged event whose journey
/// had not taken it when the node stopped.
void record_event_only(const temp_dir& dir, const std::string& order_id,
                       const std::string& type) {
  auto changed = damage_records(
    dir.path(), format::db_orders, order_id, [&](std::string bytes) {
      auto rec = decode<order_record>(bytes, "orders");
      REQUIRE(rec);
      rec->events.push_back(type);
      if (type == "cancel_order")
        rec->cancelled = true;
      return encode(*rec);
    });
  REQUIRE(changed == 1);
}

/// Waits until the stored journey of `order_id` is terminal (a journey
/// recovered at open may end before a subscriber could see it).
journey_record wait_stored_terminal(engine_fixture& fx,
                                    const std::string& order_id) {
  std::optional<journey_record> last;
  if (eventually([&] {
        auto all = fx.engine->journeys(order_id);
        if (all && all->size() == 1)
          last = all->front();
        return last && is_terminal(last->state);
      }))
    return *last;
  FAIL("journey of " << order_id << " did not end; last: "
                     << (last ? to_json(*last) : std::string{"none"}));
  return {};
}

} // namespace

TEST_CASE("an acknowledged event reaches a parked journey after a restart") {
  engine_fixture fx{with_notify()};
  fx.publish_example("order-to-invoice.json");
  for (auto id : {"SO-1001", "SO-1004"})
    REQUIRE(fx.submit(engine_fixture::example_order(id)).status
            == submit_status::accepted);
  fx.wait_passivated(invoice_flow, 1, 2);
  fx.close();
  record_event_only(fx.dir, "SO-1001", "fulfillment_shipped");
  record_event_only(fx.dir, "SO-1004", "cancel_order");
  fx.open(with_notify());
  auto shipped = wait_stored_terminal(fx, "SO-1001");
  CHECK(shipped.state == journey_state::completed);
  CHECK(shipped.invoice_id == std::optional<std::string>{"INV-SO-1001"});
  auto cancelled = wait_stored_terminal(fx, "SO-1004");
  CHECK(cancelled.state == journey_state::cancelled);
}

TEST_CASE("a waiting journey that took its event before a branch reported runs "
          "after a restart") {
  // The journey saved a snapshot holding the event while the branch that
  // waits for it had not yet answered; the node stopped there. The event is
  // no longer "missed", yet the branch still waits: it must not be parked.
  engine_fixture fx{with_notify()};
  fx.publish_example("order-to-invoice.json");
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1001")).status
          == submit_status::accepted);
  fx.wait_passivated(invoice_flow, 1, 1);
  fx.close();
  record_event_only(fx.dir, "SO-1001", "fulfillment_shipped");
  auto changed =
    damage_records(fx.dir.path(), format::db_journeys,
                   journey_prefix("SO-1001"), [](std::string bytes) {
                     auto snap = decode<journey_snapshot>(bytes, "journeys");
                     REQUIRE(snap);
                     REQUIRE(snap->state == journey_state::waiting);
                     snap->events.push_back("fulfillment_shipped");
                     return encode(*snap);
                   });
  REQUIRE(changed == 1);
  fx.open(with_notify());
  auto shipped = wait_stored_terminal(fx, "SO-1001");
  CHECK(shipped.state == journey_state::completed);
  CHECK(shipped.invoice_id == std::optional<std::string>{"INV-SO-1001"});
}

TEST_CASE("intake past the orders in flight limit answers busy") {
  auto config = with_notify();
  config.limits.orders_in_flight = 3;
  engine_fixture fx{config};
  // Journeys that hold their orders: a provider that answers only once
  // the test lets it.
  fx.publish(R"({"name": "Slow", "type": "order", "steps": [
    {"action": "custom", "name": "Call", "provider": "notify"}]})");
  std::promise<void> answer;
  auto answered = answer.get_future().share();
  fx.engine->register_embedded_provider("notify",
                                        [answered](const provider_request&) {
                                          answered.wait();
                                          provider_reply r;
                                          r.ok = true;
                                          return r;
                                        });
  std::vector<std::string> three;
  for (int i = 0; i < 3; ++i)
    three.push_back(R"({"id": "B-)" + std::to_string(i) + R"(", "lines": []})");
  for (const auto& r : fx.engine->submit_batch(three))
    CHECK(r.status == submit_status::accepted);
  CHECK(fx.engine->storage().orders_in_flight == 3);
  auto refused = fx.submit(R"({"id": "B-3", "lines": []})");
  CHECK(refused.status == submit_status::busy);
  CHECK(refused.error.rfind("node busy: 3 orders in flight, the limit is 3", 0)
        == 0);
  CHECK(orca_code(refused.refusal) == static_cast<uint8_t>(errc::busy));
  auto none = fx.engine->journeys("B-3");
  CHECK((!none || none->empty()));
  // Once they are done, intake takes orders again.
  answer.set_value();
  for (int i = 0; i < 3; ++i)
    fx.wait_terminal("B-" + std::to_string(i), "Slow");
  eventually([&] { return fx.engine->storage().orders_in_flight == 0; });
  CHECK(fx.submit(R"({"id": "B-3", "lines": []})").status
        == submit_status::accepted);
}

TEST_CASE(
  "events past the orders in flight limit answer busy instead of queueing") {
  auto config = with_notify();
  config.limits.orders_in_flight = 4;
  engine_fixture fx{config};
  fx.publish_example("order-to-invoice.json");
  REQUIRE(fx.submit(engine_fixture::example_order("SO-1001")).status
          == submit_status::accepted);
  // Hold the commit thread: a submission's answer runs on it.
  std::promise<void> holding;
  std::promise<void> release;
  auto released = release.get_future().share();
  fx.engine->submit_async({engine_fixture::example_order("SO-1002")},
                          [&holding, released](std::vector<submit_result>) {
                            holding.set_value();
                            released.wait();
                          });
  holding.get_future().wait();
  std::vector<std::pair<std::string, std::string>> events(
    10, {"SO-1001", "fulfillment_shipped"});
  std::promise<std::vector<caf::error>> answered;
  fx.engine->events_async(std::move(events),
                          [&answered](std::vector<caf::error> errs) {
                            answered.set_value(std::move(errs));
                          });
  release.set_value();
  auto errs = answered.get_future().get();
  std::size_t taken = 0;
  std::size_t busy = 0;
  for (const auto& err : errs) {
    if (!err)
      ++taken;
    else if (orca_code(err) == static_cast<uint8_t>(errc::busy))
      ++busy;
  }
  CHECK(taken == 4);
  CHECK(busy == 6);
  for (const auto& err : errs)
    if (err)
      CHECK(describe(err).find("(orders_in_flight)") != std::string::npos);
  auto done = fx.wait_terminal("SO-1001", invoice_flow);
  CHECK(done.state == journey_state::completed);
}

TEST_CASE("a full store refuses intake and loses nothing it accepted") {
  temp_dir dir;
  std::vector<std::string> accepted;
  auto big_order = [](int i) {
    return R"({"id": "F-)" + std::to_string(i)
      + R"(", "lines": [{"id": "1"}], "pad": ")" + std::string(60000, 'p')
      + R"("})";
  };
  {
    engine_options opts;
    opts.data_dir = dir.path();
    opts.durable = false;
    opts.threads = 2;
    opts.map_size = std::size_t{4} << 20;
    opts.config = with_notify();
    auto engine = Engine::open(std::move(opts));
    REQUIRE(engine);
    auto created =
      (*engine)->create_flow(example("order-to-invoice.json"), "f");
    REQUIRE(created);
    REQUIRE((*engine)->publish_flow(created->name));
    bool full = false;
    for (int i = 0; i < 400 && !full; ++i) {
      auto r = (*engine)->submit(big_order(i));
      if (r.status == submit_status::accepted) {
        accepted.push_back(r.order_id);
      } else {
        REQUIRE(r.status == submit_status::busy);
        CHECK(r.error.find("storage full") != std::string::npos);
        full = true;
      }
    }
    REQUIRE(full);
    REQUIRE_FALSE(accepted.empty());
    auto st = (*engine)->storage();
    CHECK(st.max_map_size == std::size_t{4} << 20);
    CHECK(st.map_size == std::size_t{4} << 20);
    CHECK(st.full);
    auto again = (*engine)->submit(big_order(1000));
    CHECK(again.status == submit_status::busy);
    CHECK(orca_code(again.refusal) == static_cast<uint8_t>(errc::storage_full));
    (*engine)->stop();
  }
  // With room again, every accepted order is there and runs on.
  engine_options opts;
  opts.data_dir = dir.path();
  opts.durable = false;
  opts.threads = 2;
  opts.config = with_notify();
  auto engine = Engine::open(std::move(opts));
  REQUIRE(engine);
  for (const auto& id : accepted) {
    auto journeys = (*engine)->journeys(id);
    REQUIRE(journeys);
    CHECK(journeys->size() == 1);
  }
}

TEST_CASE("a client cannot serve a provider the node runs itself") {
  node_config config = with_notify();
  config.providers["erp"].kind = provider_kind::remote;
  engine_fixture fx{config};
  caf::scoped_actor self{fx.engine->system()};
  auto client = caf::actor_cast<caf::actor>(self);
  auto taken = fx.engine->register_remote_provider("billing", client);
  REQUIRE(taken);
  CHECK(describe(taken).find("provider \"billing\" is a simulated provider")
        != std::string::npos);
  CHECK_FALSE(fx.engine->register_remote_provider("erp", client));
  CHECK_FALSE(fx.engine->register_remote_provider("brand-new", client));
  for (const auto& p : fx.engine->providers())
    if (p.id == "billing")
      CHECK(p.kind == "simulated");
}

TEST_CASE("a subscriber that blocks or throws or calls back stalls nothing") {
  engine_fixture fx{with_notify()};
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<int> blocked{0};
  fx.engine->subscribe([&](const journey_record&) {
    ++blocked;
    released.wait();
  });
  std::atomic<int> threw{0};
  fx.engine->subscribe([&](const journey_record&) {
    ++threw;
    throw std::runtime_error("a subscriber's own failure");
  });
  std::atomic<int> called_back{0};
  fx.engine->subscribe([&](const journey_record& r) {
    if (auto mine = fx.engine->journeys(r.order_id); mine && !mine->empty())
      ++called_back;
  });
  fx.publish_example("order-to-invoice.json");
  for (auto id : {"SO-1001", "SO-1004"})
    REQUIRE(fx.submit(engine_fixture::example_order(id)).status
            == submit_status::accepted);
  // The fixture's own subscriber sees both journeys wait (engine_fixture's
  // wait_for would flush, which waits for the blocked subscriber).
  CHECK(fx.watch.wait([&] {
    auto a = fx.watch.find("SO-1001", invoice_flow);
    auto b = fx.watch.find("SO-1004", invoice_flow);
    return a && b && a->state == journey_state::waiting
      && b->state == journey_state::waiting;
  }));
  // The others get their updates too, each on its own thread.
  eventually([&] { return threw.load() >= 3 && called_back.load() >= 3; });
  CHECK(blocked.load() == 1);
  CHECK(threw.load() >= 3);
  CHECK(called_back.load() >= 3);
  release.set_value();
  fx.engine->flush();
  CHECK(blocked.load() == threw.load());
}

TEST_CASE(
  "a subscriber that falls behind loses the newest updates and is told") {
  std::vector<std::string> warnings;
  std::mutex mutex;
  subscriber_hub hub{[&](const std::string& w) {
                       std::lock_guard<std::mutex> guard{mutex};
                       warnings.push_back(w);
                     },
                     2};
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<int> seen{0};
  std::atomic<int> of_x{0};
  auto id = hub.add(
    [&](const journey_record& r) {
      if (r.order_id == "X" && r.flow == "F" && r.version == 1)
        ++of_x;
      if (seen++ == 0)
        released.wait();
    },
    false);
  auto parsed = parse_flow(R"({"name": "F", "type": "order", "steps": [
    {"action": "custom", "name": "Call", "provider": "p"}]})");
  REQUIRE(parsed.errors.empty());
  journey_snapshot s;
  s.order_id = "X";
  s.flow = "F";
  s.version = 1;
  hub.publish(s, parsed.model);
  REQUIRE(eventually([&] { return seen.load() > 0; }));
  for (int i = 0; i < 5; ++i)
    hub.publish(s, parsed.model);
  CHECK(hub.dropped(id) == 3);
  release.set_value();
  hub.drain();
  CHECK(seen.load() == 3);
  hub.publish(s, parsed.model);
  hub.drain();
  CHECK(of_x.load() == 4);
  // A snapshot its flow version cannot describe (a step it does not have)
  // is reported as such, not as the subscriber's failure, and skipped.
  journey_snapshot odd = s;
  odd.order_id = "Y";
  step_result beyond;
  beyond.step = 99;
  odd.steps.push_back(beyond);
  hub.publish(odd, parsed.model);
  hub.publish(s, parsed.model);
  hub.drain();
  CHECK(seen.load() == 5);
  CHECK(of_x.load() == 5);
  std::lock_guard<std::mutex> guard{mutex};
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[1].rfind("the record of the journey of order \"Y\" on flow "
                          "\"F\" could not be made: ",
                          0)
        == 0);
  CHECK(warnings[0]
        == "subscriber 1 fell behind: 3 journey updates were dropped");
}
