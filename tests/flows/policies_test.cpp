#include <catch2/catch.hpp>

#include "flows/policies.hpp"
#include "support/files.hpp"

using namespace orca;

namespace {

flow_ptr order_to_invoice() {
  auto parsed = parse_flow(test::example("order-to-invoice.json"));
  REQUIRE(parsed.model);
  return parsed.model;
}

order make_order(const std::string& text) {
  auto o = order::parse(text);
  REQUIRE(o);
  return std::move(*o);
}

} // namespace

TEST_CASE("header filters decide whether an action applies") {
  auto f = order_to_invoice();
  const auto& erp = *f->find_step("Hand to ERP");
  auto b2b =
    make_order(R"({"id": "1", "channel": "b2b", "lines": [{"id": "a"}]})");
  auto web =
    make_order(R"({"id": "2", "channel": "web", "lines": [{"id": "a"}]})");
  CHECK(apply_filters(*f, erp, b2b, all_lines(b2b)).matched);
  CHECK_FALSE(apply_filters(*f, erp, web, all_lines(web)).matched);
}

TEST_CASE("line filters keep the matching lines and skip when none match") {
  auto f = order_to_invoice();
  const auto& pick = *f->find_step("Pick warehouse");
  auto mixed = make_order(R"({"id": "1", "channel": "web", "lines": [
    {"id": "1", "kind": "gift_card"}, {"id": "2", "sku": "RED"}]})");
  auto r = apply_filters(*f, pick, mixed, all_lines(mixed));
  CHECK(r.matched);
  CHECK(r.lines == line_set{1});
  auto cards = make_order(R"({"id": "2", "channel": "web", "lines": [
    {"id": "1", "kind": "gift_card"}]})");
  CHECK_FALSE(apply_filters(*f, pick, cards, all_lines(cards)).matched);
  SECTION("a failing header filter skips whatever the lines") {
    auto b2b =
      make_order(R"({"id": "3", "channel": "b2b", "lines": [{"id": "1"}]})");
    CHECK_FALSE(apply_filters(*f, pick, b2b, all_lines(b2b)).matched);
  }
}

TEST_CASE("a validation action lists every failing rule with line ids") {
  auto f = order_to_invoice();
  auto bad = make_order(
    R"({"id": "SO-1003", "currency": "JPY", "ship_to": {"country": "usa"},
    "lines": [{"id": "1", "sku": "SKU-RED", "quantity": 0}, {"id": "2"}]})");
  auto header =
    run_validation(*f, *f->find_step("Check header"), bad, all_lines(bad));
  CHECK(
    header
    == std::vector<std::string>{"customer_id is required",
                                "ship_to.country must be an ISO 3166 code"});
  auto lines =
    run_validation(*f, *f->find_step("Check lines"), bad, all_lines(bad));
  CHECK(lines
        == std::vector<std::string>{"line \"1\": quantity must be positive",
                                    "line \"2\": quantity must be positive",
                                    "line \"2\": sku is required"});
  SECTION("only the lines in scope are checked") {
    auto some = run_validation(*f, *f->find_step("Check lines"), bad, {0});
    CHECK(some.size() == 1);
  }
}

TEST_CASE(
  "fulfillment sources come from the first matching rule or the default") {
  auto f = order_to_invoice();
  const auto& pick = *f->find_step("Pick warehouse");
  auto o = make_order(R"({"id": "SO-1", "lines": [
    {"id": "1", "region": "US"}, {"id": "2", "region": "EU"},
    {"id": "3", "region": "US"}, {"id": "4"}]})");
  auto groups = assign_sources(*f, pick, o, all_lines(o));
  REQUIRE(groups);
  REQUIRE(groups->size() == 2);
  CHECK((*groups)[0].source == "WH-SEA");
  CHECK((*groups)[0].line_ids == std::vector<std::string>{"1", "3", "4"});
  CHECK((*groups)[1].source == "WH-AMS");
  CHECK((*groups)[1].line_ids == std::vector<std::string>{"2"});
}

TEST_CASE("a line with no matching rule and no default source fails") {
  auto parsed = parse_flow(R"({"name": "S", "type": "order",
    "policies": {"execution": [{"name": "Src", "kind": "fulfillment_source",
      "rules": [{"when": {"field": "region", "op": "eq", "value": "EU"}, "source": "AMS"}]}]},
    "steps": [{"action": "assign_fulfillment_source", "name": "Pick",
               "execution_policies": ["Src"]}]})");
  REQUIRE(parsed.model);
  auto o = make_order(R"({"id": "SO-1", "lines": [{"id": "1", "region": "EU"},
    {"id": "2", "region": "US"}]})");
  auto groups = assign_sources(*parsed.model, *parsed.model->find_step("Pick"),
                               o, all_lines(o));
  REQUIRE_FALSE(groups);
  CHECK(describe(groups.error()).find("no fulfillment source for line(s) \"2\"")
        != std::string::npos);
}
