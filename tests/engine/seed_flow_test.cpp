// The flow from the product brief: a Splitter-Merge with one branch per
// order source.

#include "support/engine_fixture.hpp"

using namespace orca;
using namespace orca::test;

namespace {

const char* flow_name = "Test Order flow sample";

std::string order_from(const std::string& id, const std::string& source,
                       const std::string& currency = "USD") {
  return R"({"id": ")" + id + R"(", "source": ")" + source
    + R"(", "customer_id": "C-1", "currency": ")" + currency
    + R"(", "lines": [{"id": "1", "sku": "SKU-RED", "quantity": 1}]})";
}

} // namespace

TEST_CASE("the seed example validates a BigCommerce order in its branch") {
  engine_fixture fx;
  fx.publish_example("test-order-flow-sample.json");
  REQUIRE(fx.submit(order_from("B-1", "BigCommerce")).status
          == submit_status::accepted);
  auto r = fx.wait_terminal("B-1", flow_name);
  CHECK(r.state == journey_state::completed);
  CHECK(r.version == 1);
  REQUIRE(r.steps.size() == 3);
  // The untaken branch is reached only as far as its first action.
  const auto* one = step_named(r, "Test validation 1");
  const auto* two = step_named(r, "Test validation 2");
  const auto* split = step_named(r, "Validation split");
  REQUIRE(one);
  REQUIRE(two);
  REQUIRE(split);
  CHECK(one->outcome == step_outcome::succeeded);
  CHECK(one->path == "Validation split/Order Source 1");
  CHECK(one->attempts == 1);
  CHECK(two->outcome == step_outcome::skipped);
  CHECK(two->path == "Validation split/Order Source 2");
  CHECK(split->outcome == step_outcome::succeeded);
  CHECK(split->path.empty());
  CHECK_FALSE(split->is_action);
  CHECK(split->kind == "splitter_merge");
  // The merge ends after its branches.
  CHECK(r.steps.back().name == "Validation split");
}

TEST_CASE("the seed example validates an Orderful order in the other branch") {
  engine_fixture fx;
  fx.publish_example("test-order-flow-sample.json");
  REQUIRE(fx.submit(order_from("O-1", "Orderful")).status
          == submit_status::accepted);
  auto r = fx.wait_terminal("O-1", flow_name);
  CHECK(r.state == journey_state::completed);
  CHECK(step_named(r, "Test validation 1")->outcome == step_outcome::skipped);
  CHECK(step_named(r, "Test validation 2")->outcome == step_outcome::succeeded);
}

TEST_CASE("the seed example skips an order from any other source") {
  engine_fixture fx;
  fx.publish_example("test-order-flow-sample.json");
  REQUIRE(fx.submit(order_from("S-1", "Shopify")).status
          == submit_status::accepted);
  auto r = fx.wait_terminal("S-1", flow_name);
  CHECK(r.state == journey_state::skipped);
  CHECK(step_named(r, "Test validation 1")->outcome == step_outcome::skipped);
  CHECK(step_named(r, "Test validation 2")->outcome == step_outcome::skipped);
  CHECK(step_named(r, "Validation split")->outcome == step_outcome::succeeded);
}

TEST_CASE("an order that fails validation in its branch fails the merge and "
          "the journey") {
  engine_fixture fx;
  fx.publish_example("test-order-flow-sample.json");
  REQUIRE(fx.submit(order_from("B-2", "BigCommerce", "JPY")).status
          == submit_status::accepted);
  auto r = fx.wait_terminal("B-2", flow_name);
  CHECK(r.state == journey_state::failed);
  const auto* one = step_named(r, "Test validation 1");
  REQUIRE(one);
  CHECK(one->outcome == step_outcome::failed);
  CHECK(one->error == std::optional<std::string>{"unsupported currency"});
  const auto* split = step_named(r, "Validation split");
  CHECK(split->outcome == step_outcome::failed);
  CHECK(split->error
        == std::optional<std::string>{"failed branch: \"Order Source 1\""});
}
