// Journey listings: by flow, by state, by both or neither, a page at a
// time, each journey exactly once and in the order of order id then flow,
// before and after a restart. Listings by flow or state come from the
// journey_states index; the full listing reads every journey, so each
// filtered listing is checked against it.

#include "support/engine_fixture.hpp"
#include "support/orders.hpp"

using namespace orca;
using namespace orca::test;

namespace {

const char* invoice_flow = "Order to invoice";
const char* park_flow = "Park";

const char* park_json = R"({"name": "Park", "type": "order", "steps": [
  {"action": "custom", "name": "After the event", "provider": "notify",
   "input_events": ["never"]}]})";

std::string id_of(const journey_record& r) {
  return r.order_id + "/" + r.flow + "/" + std::to_string(r.version) + "/"
    + to_string(r.state);
}

/// Every journey `q` lists, fetched `page` at a time.
std::vector<std::string> paged(Engine& e, journey_query q, std::size_t page) {
  q.limit = page;
  std::vector<std::string> all;
  for (;;) {
    auto got = e.list_journeys(q);
    REQUIRE(got);
    REQUIRE(got->size() <= page);
    for (const auto& r : *got)
      all.push_back(id_of(r));
    if (got->size() < page)
      return all;
    const auto& last = got->back();
    q.after = journey_id{last.order_id, last.flow, last.version};
  }
}

/// Checks every listing against the full one, filtered here.
void check_listings(Engine& e) {
  auto everything = e.list_journeys({});
  REQUIRE(everything);
  std::vector<std::optional<std::string>> flows = {
    std::nullopt, std::string{invoice_flow}, std::string{park_flow},
    std::string{"No such flow"}};
  std::vector<std::optional<journey_state>> states = {
    std::nullopt, journey_state::running, journey_state::waiting,
    journey_state::completed, journey_state::cancelled};
  for (const auto& flow : flows)
    for (const auto& state : states) {
      std::vector<std::string> expected;
      for (const auto& r : *everything)
        if ((!flow || r.flow == *flow) && (!state || r.state == *state))
          expected.push_back(id_of(r));
      journey_query q;
      q.flow = flow;
      q.state = state;
      INFO("flow " << flow.value_or("(any)") << ", state "
                   << (state ? to_string(*state) : "(any)"));
      CHECK(paged(e, q, 5) == expected);
      CHECK(paged(e, q, 1000) == expected);
    }
}

} // namespace

TEST_CASE("listings by flow and state page through each journey once, in "
          "order, before and after a restart") {
  engine_fixture fx{with_notify()};
  fx.publish_example("order-to-invoice.json");
  fx.publish(park_json);
  // Every order has a journey on both flows: shipped ones complete on one,
  // cancelled ones end on both, the others wait on both.
  for (int i = 0; i < 24; ++i) {
    auto id = "T-" + std::to_string(100 + i);
    REQUIRE(fx.submit(with_id(first_example_order(), id)).status
            == submit_status::accepted);
    fx.wait_state(id, invoice_flow, journey_state::waiting);
    fx.wait_state(id, park_flow, journey_state::waiting);
    if (i % 3 == 0) {
      REQUIRE_FALSE(fx.engine->event(id, "fulfillment_shipped"));
      CHECK(fx.wait_terminal(id, invoice_flow).state
            == journey_state::completed);
    } else if (i % 3 == 1) {
      REQUIRE_FALSE(fx.engine->cancel(id));
      CHECK(fx.wait_terminal(id, invoice_flow).state
            == journey_state::cancelled);
      CHECK(fx.wait_terminal(id, park_flow).state == journey_state::cancelled);
    }
  }
  fx.engine->flush();
  auto everything = fx.engine->list_journeys({});
  REQUIRE(everything);
  CHECK(everything->size() == 48);
  check_listings(*fx.engine);

  fx.close();
  fx.open(with_notify());
  fx.engine->flush();
  check_listings(*fx.engine);
}
