// The Engine is safe to call from any thread.

#include <thread>

#include "support/engine_fixture.hpp"

using namespace orca;
using namespace orca::test;

TEST_CASE("orders submitted from many threads at once each get one journey") {
  engine_fixture fx{with_notify()};
  fx.publish_example("order-to-invoice.json");
  constexpr int threads = 4;
  constexpr int per_thread = 50;
  std::vector<std::thread> workers;
  std::atomic<int> accepted{0};
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        auto id = "C-" + std::to_string(t) + "-" + std::to_string(i);
        auto r = fx.engine->submit(R"({"id": ")" + id
                                   + R"(", "customer_id": "C", "channel": "b2b",
                                      "ship_to": {"country": "NL"},
                                      "lines": [{"id": "1", "sku": "S", "quantity": 1}]})");
        if (r.status == submit_status::accepted)
          ++accepted;
        if (i % 10 == 0)
          fx.engine->event(id, "fulfillment_shipped");
      }
    });
  for (auto& w : workers)
    w.join();
  CHECK(accepted == threads * per_thread);
  for (int t = 0; t < threads; ++t)
    for (int i = 0; i < per_thread; ++i) {
      auto id = "C-" + std::to_string(t) + "-" + std::to_string(i);
      if (i % 10 == 0)
        CHECK(fx.wait_terminal(id, "Order to invoice").state
              == journey_state::completed);
      else
        fx.wait_state(id, "Order to invoice", journey_state::waiting);
    }
  fx.engine->flush();
  journey_query in_wait;
  in_wait.state = journey_state::waiting;
  auto waiting = fx.engine->list_journeys(in_wait);
  REQUIRE(waiting);
  CHECK(waiting->size() == threads * (per_thread - per_thread / 10));
  journey_query seven;
  seven.flow = "Order to invoice";
  seven.limit = 7;
  auto limited = fx.engine->list_journeys(seven);
  REQUIRE(limited);
  CHECK(limited->size() == 7);
}
