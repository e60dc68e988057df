// The node actor's stop (drain_atom) in one process with a real engine: it
// answers what it took, refuses what comes after, and then ends.

#include <caf/all.hpp>

#include "engine/node.hpp"
#include "engine/node_protocol.hpp"
#include "support/engine_fixture.hpp"

using namespace orca;
using namespace orca::test;

TEST_CASE("a draining node answers the orders it took and refuses what "
          "comes after") {
  temp_dir dir;
  engine_options opts;
  opts.data_dir = dir.path();
  opts.durable = true; // a commit takes long enough to be waited for
  opts.configure = [](caf::actor_system_config& cfg) {
    register_node_types(cfg);
  };
  auto engine = Engine::open(std::move(opts));
  REQUIRE(engine);
  REQUIRE((*engine)->create_flow(R"({"name": "F", "type": "order",
    "steps": [{"action": "validate_order_header", "name": "Check"}]})"));
  REQUIRE((*engine)->publish_flow("F"));
  auto node = spawn_node(**engine, node_identity{});
  std::vector<std::string> orders;
  for (int i = 0; i < 2000; ++i)
    orders.push_back(minimal_order("D-" + std::to_string(i)));
  {
    caf::scoped_actor self{(*engine)->system()};
    // All three are in the node's mailbox before it handles the first: the
    // submission is taken, the drain waits for its commit, and the status
    // request comes too late.
    auto submitted =
      self->request(node, caf::infinite, order_submit_atom::value, orders);
    auto drained = self->request(node, caf::infinite, drain_atom::value);
    auto status = self->request(node, caf::infinite, node_status_atom::value);
    std::optional<std::string> refusal;
    status.receive([&](const node_status&) { refusal = "answered"; },
                   [&](caf::error& err) { refusal = describe(err); });
    REQUIRE(refusal);
    CHECK(*refusal == "the node is stopping");
    std::size_t accepted = 0;
    submitted.receive(
      [&](const std::vector<submit_outcome>& out) {
        for (const auto& o : out)
          accepted += o.status == "accepted" ? 1 : 0;
      },
      [&](caf::error& err) {
        FAIL("the submission failed: " << describe(err));
      });
    CHECK(accepted == orders.size());
    bool ended = false;
    drained.receive([&](caf::atom_value) { ended = true; },
                    [&](caf::error& err) { FAIL(describe(err)); });
    CHECK(ended);
  }
  // Everything it answered is in the store.
  journey_query all;
  all.flow = std::string{"F"};
  all.limit = 100000;
  auto stored = (*engine)->list_journeys(all);
  REQUIRE(stored);
  CHECK(stored->size() == orders.size());
}
