// The node's policy library (SPEC §2.2): library files are checked like a
// flow's policies, and a flow that refers to library policies gets a copy
// of exactly those it uses.

#include <catch2/catch.hpp>

#include "flows/flow_lifecycle.hpp"
#include "flows/policy_library.hpp"

using namespace orca;

namespace {

const char* library_file = R"({
  "filter": [{"name": "US only", "when": {"field": "ship_to.country", "op": "eq", "value": "US"}},
             {"name": "Unused", "when": {"field": "x", "op": "exists"}}],
  "execution": [{"name": "Needs customer", "kind": "header_validation",
                 "rules": [{"when": {"field": "customer_id", "op": "exists"},
                            "message": "customer is required"}]}]})";

std::string flow_using(const std::string& own_policies = "") {
  return R"({"name": "F", "type": "order",)" + own_policies + R"( "steps": [
    {"action": "validate_order_header", "name": "Check",
     "filter_policies": ["US only"], "execution_policies": ["Needs customer"]}]})";
}

} // namespace

TEST_CASE("a library file is read policy by policy") {
  auto lib = parse_policy_file(library_file, "lib.json");
  REQUIRE(lib);
  REQUIRE(lib->size() == 3);
  CHECK((*lib)[0].name == "US only");
  CHECK_FALSE((*lib)[0].execution);
  CHECK((*lib)[2].name == "Needs customer");
  CHECK((*lib)[2].execution);
  SECTION("a file that is not an object is refused") {
    for (const char* text : {"[]", "888", "\"x\""}) {
      auto bad = parse_policy_file(text, "lib.json");
      REQUIRE_FALSE(bad);
      CHECK(describe(bad.error())
              .find("lib.json: must be an object with \"filter\"")
            == 0);
    }
  }
  SECTION("with every problem named by its place") {
    auto bad = parse_policy_file(
      R"({"filter": [{"name": "A", "when": {"field": "x", "op": "nope"}},
      {"name": "A", "when": {"field": "x", "op": "exists"}}], "extra": 1})",
      "lib.json");
    REQUIRE_FALSE(bad);
    auto text = describe(bad.error());
    CHECK(text.find("lib.json: extra: unknown field") != std::string::npos);
    CHECK(text.find("lib.json: filter[0] \"A\".when.op: unknown op \"nope\"")
          != std::string::npos);
    CHECK(
      text.find(
        "lib.json: filter[1] \"A\": filter policy name \"A\" is already used")
      != std::string::npos);
  }
}

TEST_CASE("a flow gets a copy of the library policies it uses, and no others") {
  auto lib = parse_policy_file(library_file, "lib.json");
  REQUIRE(lib);
  auto merged = with_library(flow_using(), *lib, "f.json");
  REQUIRE(merged);
  CHECK(merged->find("\"US only\"") != std::string::npos);
  CHECK(merged->find("\"Needs customer\"") != std::string::npos);
  CHECK(merged->find("Unused") == std::string::npos);
  auto parsed = parse_flow(*merged);
  REQUIRE(parsed.model);
  CHECK(parsed.model->filters.size() == 1);
  CHECK(parsed.model->executions.size() == 1);
  // Without the library the same flow does not validate.
  CHECK_FALSE(parse_flow(flow_using()).model);
}

TEST_CASE("a policy defined both in a flow and in the library is an error "
          "naming both") {
  auto lib = parse_policy_file(library_file, "lib.json");
  REQUIRE(lib);
  auto clash = with_library(
    flow_using(
      R"( "policies": {"filter": [{"name": "US only", "when": {"field": "a", "op": "exists"}}]},)"),
    *lib, "f.json");
  REQUIRE_FALSE(clash);
  CHECK(describe(clash.error())
        == "f.json: policies.filter[0]: policy \"US only\" is defined both in "
           "this flow and in the node's policy library; rename one of them");
}

TEST_CASE("publish freezes the library policies, and a library change makes "
          "the next publish a new version") {
  auto lib = parse_policy_file(library_file, "lib.json");
  REQUIRE(lib);
  auto created =
    lifecycle_create(flow_using(), "f.json", 1, default_limits(), *lib);
  REQUIRE(created);
  CHECK(created->draft == flow_using()); // the draft stays as written
  auto v1 = lifecycle_publish(*created, {}, 2, default_limits(), *lib);
  REQUIRE(v1);
  REQUIRE(v1->frozen);
  CHECK(v1->frozen->definition.find("customer is required")
        != std::string::npos);
  auto stopped = lifecycle_stop(v1->flow, 3);
  REQUIRE(stopped);
  SECTION("unchanged, publish republishes the same version") {
    auto again = lifecycle_publish(*stopped, {}, 4, default_limits(), *lib,
                                   v1->frozen->definition);
    REQUIRE(again);
    CHECK(again->version == 1);
    CHECK_FALSE(again->frozen);
  }
  SECTION("a changed library policy makes version 2") {
    auto changed = *lib;
    changed[2].json =
      R"({"name":"Needs customer","kind":"header_validation","rules":[{"when":{"field":"customer_id","op":"exists"},"message":"who is it for?"}]})";
    auto v2 = lifecycle_publish(*stopped, {}, 4, default_limits(), changed,
                                v1->frozen->definition);
    REQUIRE(v2);
    CHECK(v2->version == 2);
    REQUIRE(v2->frozen);
    CHECK(v2->frozen->definition.find("who is it for?") != std::string::npos);
  }
}
